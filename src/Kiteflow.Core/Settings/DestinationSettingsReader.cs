using System.Globalization;
using System.Text.Json;
using Kiteflow.Core.Json;

namespace Kiteflow.Core.Settings;

/// <summary>
/// Reads a destination file (SPEC §7) into <see cref="DestinationSettings"/>, collecting every
/// problem at once: unknown keys (with a suggestion), wrong JSON types and values out of range, each
/// naming its key. Comments and trailing commas are allowed: the file is written by people.
/// </summary>
public static class DestinationSettingsReader
{
    private static readonly string[] TopKeys = ["name", "method", "contentFormat", "url", "headers", "excludeAttributes", "bodyTemplate", "dateFormat", "dateUnit", "batching", "responseWebhook", "delivery"];
    private static readonly string[] BatchingKeys = ["enabled", "batchSize", "maxBatchBytes", "lingerMs", "algorithm", "propertyName", "otherProps", "code"];
    private static readonly string[] WebhookKeys = ["enabled", "forwardUrl"];
    private static readonly string[] DeliveryKeys = ["concurrency", "maxAttempts", "timeoutSeconds", "retryAmbiguousPosts", "pacing", "organizationRequestsPerMinute", "userRequestsPerMinute", "planningThreads"];

    /// <summary>Reads the destination file at <paramref name="path"/>; its file name is the default <see cref="DestinationSettings.Name"/>.</summary>
    public static (DestinationSettings Settings, IReadOnlyList<SettingsProblem> Problems) ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (new DestinationSettings(), [new SettingsProblem(SettingsProblem.FileKey, $"Cannot read the destination file '{path}': {e.Message}")]);
        }

        return Read(text, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Reads destination settings from JSON text.</summary>
    public static (DestinationSettings Settings, IReadOnlyList<SettingsProblem> Problems) Read(string json, string defaultName = "destination")
    {
        ArgumentNullException.ThrowIfNull(json);
        var settings = new DestinationSettings { Name = defaultName };
        var problems = new List<SettingsProblem>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            problems.Add(new SettingsProblem(SettingsProblem.FileKey, $"The destination file is not valid JSON (line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}); fix the syntax and try again."));
            return (settings, problems);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new SettingsProblem(SettingsProblem.FileKey, "The destination file must hold one JSON object with keys such as \"url\" and \"method\"."));
                return (settings, problems);
            }

            // A \u escape that is half of a surrogate pair parses but cannot be read as text, so no key
            // holding one can be judged: name each and stop, as for a file that is not JSON.
            foreach (var place in LoneSurrogates.Find(root))
            {
                var what = place switch
                {
                    { KeyNumber: 0 } => $"The value of \"{place.Path}\"",
                    { Path.Length: 0 } => $"Key number {place.KeyNumber} of the top-level object",
                    _ => $"Key number {place.KeyNumber} of \"{place.Path}\"",
                };
                problems.Add(new SettingsProblem(SettingsProblem.FileKey, $"{what} holds a \\u escape that is half of a UTF-16 surrogate pair without its other half (such as \\ud800), which is not text; write the character itself, or both halves of the pair."));
            }

            if (problems.Count > 0)
            {
                return (settings, problems);
            }

            // A key written twice: JSON readers disagree on which one counts (System.Text.Json takes the last), so name
            // it rather than guess.
            foreach (var key in DuplicateKeys(root, string.Empty))
            {
                problems.Add(new SettingsProblem(key, $"\"{key}\" is given more than once in the destination file; keep one.") { Final = true });
            }

            if (problems.Count > 0)
            {
                return (settings, problems);
            }

            // A token typed into the settings would be shown wherever they are (previews, exports, the audit log): say
            // where, without repeating it, and judge nothing else — another message could quote the value.
            foreach (var key in TokenLiterals.FindIn(root))
            {
                problems.Add(new SettingsProblem(key, $"\"{key}\" holds what looks like a Buildkite token (bkua_…); a token belongs in a credential, which Kiteflow sends as Authorization and never shows. Remove it from the destination.") { Final = true });
            }

            if (problems.Count > 0)
            {
                return (settings, problems);
            }

            var reader = new ObjectReader(root, string.Empty, problems);
            reader.CheckKeys(TopKeys);
            settings.Name = reader.String("name") ?? settings.Name;
            settings.Method = reader.String("method")?.ToUpperInvariant() ?? settings.Method;
            if (settings.Method is not ("POST" or "PUT" or "PATCH" or "DELETE"))
            {
                problems.Add(new SettingsProblem("method", $"'{settings.Method}' is not a method Kiteflow sends; use POST, PUT, PATCH or DELETE."));
            }

            settings.ContentFormat = reader.Enum("contentFormat", settings.ContentFormat, ("json", ContentFormat.Json), ("ndjson", ContentFormat.Ndjson), ("xml", ContentFormat.Xml), ("form", ContentFormat.Form), ("csv", ContentFormat.Csv));
            settings.Url = reader.String("url") ?? string.Empty;
            if (settings.Url.Length == 0 && !problems.Exists(p => p.Key == "url"))
            {
                problems.Add(new SettingsProblem("url", "The URL template is required, e.g. \"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds\"."));
            }

            settings.Headers = reader.String("headers");
            settings.ExcludeAttributes = reader.StringList("excludeAttributes") ?? [];
            settings.BodyTemplate = reader.JsonText("bodyTemplate");
            settings.DateFormat = reader.String("dateFormat") ?? settings.DateFormat;
            CheckDateFormat(settings.DateFormat, problems);
            settings.DateUnit = reader.Enum("dateUnit", settings.DateUnit, ("second", DateUnit.Second), ("minute", DateUnit.Minute), ("hour", DateUnit.Hour), ("day", DateUnit.Day), ("week", DateUnit.Week), ("month", DateUnit.Month), ("year", DateUnit.Year));

            if (reader.Object("batching") is { } batching)
            {
                ReadBatching(batching, settings.Batching, problems);
            }

            if (reader.Object("responseWebhook") is { } webhook)
            {
                webhook.CheckKeys(WebhookKeys);
                settings.ResponseWebhook.Enabled = webhook.Bool("enabled") ?? false;
                settings.ResponseWebhook.ForwardUrl = webhook.String("forwardUrl");
            }

            if (reader.Object("delivery") is { } delivery)
            {
                ReadDelivery(delivery, settings.Delivery);
            }
        }

        return (settings, problems);
    }

    private static void ReadBatching(ObjectReader reader, BatchingSettings batching, List<SettingsProblem> problems)
    {
        reader.CheckKeys(BatchingKeys);
        batching.Enabled = reader.Bool("enabled") ?? false;
        batching.BatchSize = (int)(reader.Integer("batchSize", 1, BatchingSettings.MaxBatchSize) ?? batching.BatchSize);
        batching.MaxBatchBytes = reader.Integer("maxBatchBytes", 1024, 1024L * 1024 * 1024) ?? batching.MaxBatchBytes;
        batching.LingerMs = (int)(reader.Integer("lingerMs", 0, 600_000) ?? batching.LingerMs);
        batching.Algorithm = reader.Enum("algorithm", batching.Algorithm, ("json-array", BatchAlgorithm.JsonArray), ("property", BatchAlgorithm.Property), ("code", BatchAlgorithm.Code));
        batching.PropertyName = reader.String("propertyName");
        batching.OtherProps = reader.ObjectText("otherProps");
        batching.Code = reader.String("code");
        if (!batching.Enabled)
        {
            return;
        }

        switch (batching.Algorithm)
        {
            case BatchAlgorithm.Property when string.IsNullOrWhiteSpace(batching.PropertyName):
                problems.Add(new SettingsProblem("batching.propertyName", "The property algorithm needs the name of the property that holds the records, e.g. \"builds\"."));
                break;
            case BatchAlgorithm.Property when batching.OtherProps is not null:
                using (var other = JsonDocument.Parse(batching.OtherProps))
                {
                    if (other.RootElement.TryGetProperty(batching.PropertyName!, out _))
                    {
                        problems.Add(new SettingsProblem("batching.otherProps", $"otherProps has a key \"{batching.PropertyName}\", the same as propertyName; rename one of them."));
                    }
                }

                break;
            case BatchAlgorithm.Code when string.IsNullOrWhiteSpace(batching.Code):
                problems.Add(new SettingsProblem("batching.code", "The code algorithm needs JavaScript that defines function batch(records, context) and returns the body."));
                break;
        }
    }

    private static void ReadDelivery(ObjectReader reader, DeliverySettings delivery)
    {
        reader.CheckKeys(DeliveryKeys);
        delivery.Concurrency = (int)(reader.Integer("concurrency", 1, 64) ?? delivery.Concurrency);
        delivery.MaxAttempts = (int)(reader.Integer("maxAttempts", 1, 20) ?? delivery.MaxAttempts);
        delivery.TimeoutSeconds = (int)(reader.Integer("timeoutSeconds", 1, 600) ?? delivery.TimeoutSeconds);
        delivery.RetryAmbiguousPosts = reader.Bool("retryAmbiguousPosts") ?? delivery.RetryAmbiguousPosts;
        delivery.Pacing = reader.Bool("pacing") ?? delivery.Pacing;
        delivery.OrganizationRequestsPerMinute = (int?)reader.Integer("organizationRequestsPerMinute", 1, 100_000) ?? delivery.OrganizationRequestsPerMinute;
        delivery.UserRequestsPerMinute = (int?)reader.Integer("userRequestsPerMinute", 1, 100_000) ?? delivery.UserRequestsPerMinute;
        delivery.PlanningThreads = (int?)reader.Integer("planningThreads", 1, 64) ?? delivery.PlanningThreads;
    }

    /// <summary>The dotted paths of keys that appear more than once in their object, anywhere in <paramref name="element"/>.</summary>
    private static IEnumerable<string> DuplicateKeys(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var reported = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                var here = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (!seen.Add(property.Name) && reported.Add(property.Name))
                {
                    yield return here;
                }

                foreach (var inner in DuplicateKeys(property.Value, here))
                {
                    yield return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                foreach (var inner in DuplicateKeys(item, $"{path}[{index++}]"))
                {
                    yield return inner;
                }
            }
        }
    }

    private static void CheckDateFormat(string format, List<SettingsProblem> problems)
    {
        try
        {
            var text = new DateTimeOffset(2024, 12, 31, 23, 59, 58, TimeSpan.Zero).ToString(format, CultureInfo.InvariantCulture);
            if (text.Length == 0)
            {
                problems.Add(new SettingsProblem("dateFormat", "The date format writes nothing; use a .NET date format such as \"yyyy-MM-dd\"."));
            }
        }
        catch (FormatException)
        {
            problems.Add(new SettingsProblem("dateFormat", $"'{format}' is not a valid .NET date format; use one such as \"yyyy-MM-dd\" or \"yyyy-MM-ddTHH:mm:ssZ\"."));
        }
    }

    /// <summary>Reads typed values from one JSON object, reporting problems under dotted keys.</summary>
    private sealed class ObjectReader(JsonElement element, string prefix, List<SettingsProblem> problems)
    {
        public void CheckKeys(string[] known)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (Array.IndexOf(known, property.Name) < 0)
                {
                    var suggestion = NameSuggestions.Closest(property.Name, known);
                    var hint = suggestion is null ? $"known keys here are {string.Join(", ", known)}" : $"did you mean \"{suggestion}\"?";
                    problems.Add(new SettingsProblem(Key(property.Name), $"Unknown setting; {hint}"));
                }
            }
        }

        public string? String(string name)
        {
            if (!TryGet(name, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String)
            {
                return value.GetString();
            }

            problems.Add(new SettingsProblem(Key(name), $"Expected a string, found {Records.RecordParser.KindName(value.ValueKind)} ({Shorten(value)})."));
            return null;
        }

        public bool? Bool(string name)
        {
            if (!TryGet(name, out var value))
            {
                return null;
            }

            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }

            problems.Add(new SettingsProblem(Key(name), $"Expected true or false, found {Shorten(value)}."));
            return null;
        }

        public long? Integer(string name, long min, long max)
        {
            if (!TryGet(name, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
            {
                if (number >= min && number <= max)
                {
                    return number;
                }

                problems.Add(new SettingsProblem(Key(name), $"{number} is out of range; use a whole number from {min:N0} to {max:N0}."));
                return null;
            }

            problems.Add(new SettingsProblem(Key(name), $"Expected a whole number from {min:N0} to {max:N0}, found {Shorten(value)}."));
            return null;
        }

        public T Enum<T>(string name, T fallback, params (string Text, T Value)[] options)
        {
            var text = String(name);
            if (text is null)
            {
                return fallback;
            }

            foreach (var (optionText, optionValue) in options)
            {
                if (string.Equals(optionText, text, StringComparison.OrdinalIgnoreCase))
                {
                    return optionValue;
                }
            }

            problems.Add(new SettingsProblem(Key(name), $"'{text}' is not one of {string.Join(", ", options.Select(o => o.Text))}."));
            return fallback;
        }

        public List<string>? StringList(string name)
        {
            if (!TryGet(name, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
            {
                return value.EnumerateArray().Select(v => v.GetString()!).ToList();
            }

            problems.Add(new SettingsProblem(Key(name), $"Expected an array of strings such as [\"org\", \"author.email\"], found {Shorten(value)}."));
            return null;
        }

        public ObjectReader? Object(string name)
        {
            if (!TryGet(name, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Object)
            {
                return new ObjectReader(value, Key(name) + ".", problems);
            }

            problems.Add(new SettingsProblem(Key(name), $"Expected an object, found {Shorten(value)}."));
            return null;
        }

        public string? ObjectText(string name)
        {
            if (!TryGet(name, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Object)
            {
                // Written out afresh rather than as the raw text, which keeps the file's comments and
                // trailing commas: the value is read again later by parsers that allow neither.
                return Kiteflow.Core.Json.JsonText.Compact(value);
            }

            problems.Add(new SettingsProblem(Key(name), $"Expected a JSON object such as {{\"source\": \"kiteflow\"}}, found {Shorten(value)}."));
            return null;
        }

        /// <summary>Any JSON value's text (checked when the destination is compiled).</summary>
        public string? JsonText(string name) => TryGet(name, out var value) ? value.GetRawText() : null;

        private bool TryGet(string name, out JsonElement value) =>
            element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

        private string Key(string name) => prefix + name;

        private static string Shorten(JsonElement value)
        {
            var text = value.GetRawText();
            return text.Length <= 40 ? text : text[..37] + "...";
        }
    }
}
