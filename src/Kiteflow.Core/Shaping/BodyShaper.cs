using System.Text.Json;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Shaping;

/// <summary>
/// Writes a record as the body's object: excluded attribute paths left out (SPEC §2.5) and, for
/// create-build, <c>meta_data.kiteflow_delivery_id</c> set so an ambiguous failure can be checked
/// with the builds list's <c>meta_data</c> filter before anything is resent.
/// </summary>
internal sealed class BodyShaper
{
    /// <summary>The meta-data key that carries the delivery id of a create-build request.</summary>
    public const string DeliveryIdKey = "kiteflow_delivery_id";

    private static readonly JsonEncodedText MetaData = JsonEncodedText.Encode("meta_data");
    private static readonly JsonEncodedText DeliveryId = JsonEncodedText.Encode(DeliveryIdKey);
    private readonly ExclusionTree _excluded;

    private BodyShaper(ExclusionTree excluded, bool injectDeliveryId)
    {
        _excluded = excluded;
        InjectsDeliveryId = injectDeliveryId;
    }

    /// <summary>Whether the body's object differs from the record at all.</summary>
    public bool ChangesRecord => _excluded.Children.Count > 0 || InjectsDeliveryId;

    /// <summary>Whether any attribute is excluded.</summary>
    public bool Excludes => _excluded.Children.Count > 0;

    /// <summary>Whether each body gets <c>meta_data.kiteflow_delivery_id</c>.</summary>
    public bool InjectsDeliveryId { get; }

    /// <summary>The excluded paths, for checking the body as it will be sent.</summary>
    public ExclusionTree? Exclusions => Excludes ? _excluded : null;

    public static BodyShaper? Compile(IList<string> excludeAttributes, bool injectDeliveryId, List<SettingsProblem> problems)
    {
        var root = ExclusionTree.CreateRoot();
        var ok = true;
        for (var i = 0; i < excludeAttributes.Count; i++)
        {
            var path = excludeAttributes[i].StartsWith("record.", StringComparison.Ordinal) ? excludeAttributes[i]["record.".Length..] : excludeAttributes[i];
            var parts = path.Split('.');
            if (path.Length == 0 || Array.Exists(parts, p => p.Length == 0))
            {
                problems.Add(new SettingsProblem($"excludeAttributes[{i}]", $"'{excludeAttributes[i]}' is not an attribute path; write e.g. \"org\" or \"author.email\"."));
                ok = false;
                continue;
            }

            root.Add(parts);
        }

        return ok ? new BodyShaper(root, injectDeliveryId) : null;
    }

    /// <summary>
    /// Writes <paramref name="record"/> shaped. <paramref name="deliveryId"/> (ASCII) is required when
    /// <see cref="InjectsDeliveryId"/>; it may be empty, to be filled in later at the returned offset.
    /// </summary>
    /// <returns>
    /// Where the delivery id's characters start, counted from the writer's last reset; -1 when none
    /// is written. A batch's id is known only once its first record is, so records shaped ahead of
    /// batching write an empty id and the batch splices its id in there.
    /// </returns>
    public long Write(Utf8JsonWriter writer, JsonElement record, string? deliveryId)
    {
        if (!ChangesRecord)
        {
            record.WriteTo(writer);
            return -1;
        }

        var idAt = -1L;

        writer.WriteStartObject();
        var wroteMetaData = false;
        foreach (var property in record.EnumerateObject())
        {
            var excluded = _excluded.Find(property);
            if (excluded is { IsLeaf: true })
            {
                continue;
            }

            if (InjectsDeliveryId && property.NameEquals(MetaData.EncodedUtf8Bytes) && property.Value.ValueKind == JsonValueKind.Object)
            {
                writer.WritePropertyName(MetaData);
                idAt = WriteObject(writer, property.Value, excluded, inject: deliveryId);
                wroteMetaData = true;
                continue;
            }

            if (excluded is not null && property.Value.ValueKind == JsonValueKind.Object)
            {
                writer.WritePropertyName(excluded.Utf8Name);
                _ = WriteObject(writer, property.Value, excluded, inject: null);
                continue;
            }

            property.WriteTo(writer);
            wroteMetaData |= InjectsDeliveryId && property.NameEquals(MetaData.EncodedUtf8Bytes);
        }

        if (InjectsDeliveryId && !wroteMetaData)
        {
            writer.WriteStartObject(MetaData);
            idAt = WriteDeliveryId(writer, deliveryId!);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        return idAt;
    }

    private static long WriteObject(Utf8JsonWriter writer, JsonElement value, ExclusionTree? excluded, string? inject)
    {
        writer.WriteStartObject();
        foreach (var property in value.EnumerateObject())
        {
            if (inject is not null && property.NameEquals(DeliveryId.EncodedUtf8Bytes))
            {
                continue;  // replaced below
            }

            var child = excluded?.Find(property);
            if (child is { IsLeaf: true })
            {
                continue;
            }

            if (child is not null && property.Value.ValueKind == JsonValueKind.Object)
            {
                writer.WritePropertyName(child.Utf8Name);
                _ = WriteObject(writer, property.Value, child, inject: null);
                continue;
            }

            property.WriteTo(writer);
        }

        var idAt = inject is null ? -1 : WriteDeliveryId(writer, inject);
        writer.WriteEndObject();
        return idAt;
    }

    /// <summary>Writes the delivery id property; returns where its value's characters start.</summary>
    private static long WriteDeliveryId(Utf8JsonWriter writer, string deliveryId)
    {
        writer.WriteString(DeliveryId, deliveryId);
        return writer.BytesCommitted + writer.BytesPending - 1 - deliveryId.Length;
    }
}
