using System.Text.Json.Nodes;
using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

/// <summary>A documented example body broken in one way, and the field the catalog must name for it.</summary>
internal sealed record BrokenCopy(string File, string Mutation, JsonObject Body, string ExpectedField)
{
    public override string ToString() => $"{File}: {Mutation}";
}

/// <summary>
/// Breaks each documented example body in every way the catalog's rules can see: each required field removed in
/// turn, each field given a wrong JSON type, each enum given an unknown value, each limit exceeded.
/// </summary>
internal static class BrokenCopies
{
    /// <summary>
    /// Fields the docs call required that the catalog deliberately does not require, and why. A field the docs call
    /// required that is neither required by the catalog nor listed here fails a test.
    /// </summary>
    public static IReadOnlyDictionary<(string Endpoint, string Field), string> Relaxed { get; } = BuildRelaxed();

    private static readonly Lazy<IReadOnlyList<BrokenCopy>> All = new(() => [.. BuildkiteExample.All.SelectMany(For)]);

    public static IEnumerable<BrokenCopy> Of(string file) => All.Value.Where(copy => copy.File == file);

    public static BrokenCopy Get(string file, string mutation) =>
        All.Value.Single(copy => copy.File == file && copy.Mutation == mutation);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var copy in All.Value)
        {
            data.Add(copy.File, copy.Mutation);
        }

        return data;
    }

    private static IEnumerable<BrokenCopy> For(BuildkiteExample example)
    {
        if (example.RequestBody is null || EndpointCatalog.Buildkite.Find(example.Endpoint) is not { TakesBody: true } endpoint)
        {
            yield break;
        }

        var body = example.RequestBody;
        foreach (var slot in Slots(body, endpoint.Body, null, root => root))
        {
            var group = slot.Schema.OneOfRequired;
            if (slot.Spec.IsRequired)
            {
                yield return Mutate(example, body, $"without `{slot.Path}`", slot.Path, slot, parent => parent.Remove(slot.Key));
            }
            else if (group is not null && group.Members.Contains(slot.Key))
            {
                // A member of a one-of group is missed only when no other member stands in for it; the catalog
                // then names the group's field (the one Buildkite names in its 422).
                if (!group.Members.Any(member => member != slot.Key && slot.Locate(body)[member] is not null))
                {
                    yield return Mutate(example, body, $"without `{slot.Path}`", group.ReportedField, slot, parent => parent.Remove(slot.Key));
                }
            }
            else if (slot.Prefix is null && example.RequiredFields.Contains(slot.Key) && !Relaxed.ContainsKey((endpoint.Id, slot.Key)))
            {
                // Documented as required but not required by the catalog: this copy fails its test on purpose.
                yield return Mutate(example, body, $"without `{slot.Path}`", slot.Path, slot, parent => parent.Remove(slot.Key));
            }

            yield return Mutate(example, body, $"`{slot.Path}` of a wrong JSON type", slot.Path, slot,
                parent => parent[slot.Key] = WrongValue(slot.Spec.Kinds));

            foreach (var copy in ValueMutations(example, body, slot))
            {
                yield return copy;
            }
        }
    }

    private static IEnumerable<BrokenCopy> ValueMutations(BuildkiteExample example, JsonObject body, Slot slot)
    {
        var spec = slot.Spec;
        if (spec.AllowedValues is not null && slot.Value is JsonValue enumValue && enumValue.TryGetValue<string>(out var text))
        {
            var wrong = spec.IsCommaList ? text + ",not-a-documented-value" : "not-a-documented-value";
            yield return Mutate(example, body, $"`{slot.Path}` = \"{wrong}\"", slot.Path, slot, parent => parent[slot.Key] = wrong);
        }

        if (spec.MaxUtf8Bytes is { } maxBytes)
        {
            yield return Mutate(example, body, $"`{slot.Path}` of {maxBytes + 1} bytes", slot.Path, slot,
                parent => parent[slot.Key] = new string('a', maxBytes + 1));
        }

        if (spec.MaxLength is { } maxLength)
        {
            yield return Mutate(example, body, $"`{slot.Path}` of {maxLength + 1} characters", slot.Path, slot,
                parent => parent[slot.Key] = new string('a', maxLength + 1));
        }

        if (spec.Maximum is { } maximum)
        {
            yield return Mutate(example, body, $"`{slot.Path}` = {maximum + 1}", slot.Path, slot, parent => parent[slot.Key] = maximum + 1);
        }

        if (spec.Minimum is { } minimum)
        {
            yield return Mutate(example, body, $"`{slot.Path}` = {minimum - 1}", slot.Path, slot, parent => parent[slot.Key] = minimum - 1);
        }

        if (spec.Kinds == JsonKinds.Integer)
        {
            yield return Mutate(example, body, $"`{slot.Path}` with a fraction", slot.Path, slot, parent => parent[slot.Key] = 5.5);
        }

        // A map's values (env, meta_data) and an array's items are checked one by one, each under its own path.
        if (spec.Values is { } values && slot.Value is JsonObject map && map.Count > 0)
        {
            var key = map.First().Key;
            var path = $"{slot.Path}.{key}";
            yield return Mutate(example, body, $"`{path}` of a wrong JSON type", path, slot,
                parent => parent[slot.Key]![key] = WrongValue(values.Kinds));
            if (values.MaxUtf8Bytes is { } maxValueBytes)
            {
                yield return Mutate(example, body, $"`{path}` of {maxValueBytes + 1} bytes", path, slot,
                    parent => parent[slot.Key]![key] = new string('a', maxValueBytes + 1));
            }
        }

        if (spec.Items is { } items && slot.Value is JsonArray array && array.Count > 0)
        {
            var path = $"{slot.Path}[0]";
            yield return Mutate(example, body, $"`{path}` of a wrong JSON type", path, slot,
                parent => parent[slot.Key]![0] = WrongValue(items.Kinds));
        }
    }

    private static BrokenCopy Mutate(BuildkiteExample example, JsonObject body, string mutation, string expectedField, Slot slot, Action<JsonObject> change)
    {
        var copy = body.DeepClone().AsObject();
        change(slot.Locate(copy));
        return new BrokenCopy(example.File, mutation, copy, expectedField);
    }

    // A value of a JSON type the field does not take.
    private static JsonNode WrongValue(JsonKinds kinds) =>
        (kinds & (JsonKinds.Number | JsonKinds.Integer)) == 0 ? JsonValue.Create(12345)
        : (kinds & JsonKinds.String) == 0 ? JsonValue.Create("wrong-type")
        : (kinds & JsonKinds.Boolean) == 0 ? JsonValue.Create(true)
        : (kinds & JsonKinds.Array) == 0 ? new JsonArray()
        : new JsonObject();

    private static IEnumerable<Slot> Slots(JsonObject node, ObjectSchema schema, string? prefix, Func<JsonObject, JsonObject> locate)
    {
        foreach (var (key, value) in node)
        {
            if (schema.Find(key) is not { } spec || value is null || spec.RefusedBecause is not null)
            {
                continue;
            }

            var path = prefix is null ? key : $"{prefix}.{key}";
            yield return new Slot(path, prefix, key, spec, schema, value, locate);
            if (spec.Properties is { } properties && value is JsonObject nested)
            {
                foreach (var inner in Slots(nested, properties, path, root => locate(root)[key]!.AsObject()))
                {
                    yield return inner;
                }
            }
        }
    }

    private static Dictionary<(string, string), string> BuildRelaxed()
    {
        const string Clusters = "required only by organizations Buildkite created with clusters as the default";
        const string Teams = "the docs mark every team setting required (on a PATCH too) while the list grew from six to ten, so older callers sending six still work";
        var relaxed = new Dictionary<(string, string), string>
        {
            [("pipelines.create", "cluster_id")] = Clusters,
        };
        string[] teamSettings =
        [
            "description", "privacy", "is_default_team", "default_member_role", "members_can_create_pipelines",
            "members_can_create_suites", "members_can_create_registries", "members_can_destroy_registries",
            "members_can_destroy_packages",
        ];
        foreach (var field in teamSettings)
        {
            relaxed[("teams.create", field)] = Teams;
            relaxed[("teams.update", field)] = Teams;
        }

        relaxed[("teams.update", "name")] = Teams;
        return relaxed;
    }

    private sealed record Slot(string Path, string? Prefix, string Key, FieldSpec Spec, ObjectSchema Schema, JsonNode Value, Func<JsonObject, JsonObject> Locate);
}
