using System.Globalization;
using System.Text;
using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

/// <summary>Renders <c>docs/catalog.md</c> from the catalog, so the reference cannot drift from the code.</summary>
internal static class CatalogDocument
{
    private const string Intro = """
        # Buildkite endpoint catalog

        <!-- Generated from src/Kiteflow.Core/Catalog/BuildkiteEndpoints.cs. Do not edit by hand: run
             KITEFLOW_UPDATE_DOCS=1 dotnet test tests/Kiteflow.Core.Tests --filter "FullyQualifiedName~CatalogDocumentTests" -->

        The catalog (`Kiteflow.Core.Catalog.EndpointCatalog.Buildkite`) is what Kiteflow knows about the Buildkite
        REST API (v2): it recognises the endpoint a planned request hits, names the token scope it needs, and checks
        each body before anything is sent, so a record Buildkite would refuse is rejected in the preview with a
        reason instead of as a 422 halfway through a delivery.

        - **Recognising a request.** `Match(method, segments)` takes the method (any case) and the path segments after
          `/v2`. A segment filled from a record (a URL macro) is passed as `null`: it can fill a `{placeholder}`, never
          a literal segment. Literal segments are compared exactly; when two paths fit, the one with more literal
          segments wins (`POST /organizations/{org}/teams/enable` is `teams.enable`, not a team). One trailing slash
          is ignored.
        - **Checking a body.** `CheckBody(body)` reports every problem at once, each naming its field (a dotted path
          for nested fields, `author.email`; an index for array items, `tags[2]`; `(body)` for the body as a whole)
          and what to do. `null` counts as "not given". Fields the endpoint does not know do not make a body invalid
          (Buildkite ignores them) but are returned for the preview to warn about, with a "did you mean" suggestion
          for a near miss (`brnach` → `branch`).
        - **One object per call.** Every Buildkite write endpoint takes one object per call: a batched body (a JSON
          array of records) is refused with a message that says so.
        - **When the docs are unsure**, the catalog takes the reading that refuses less: Buildkite is the final
          judge, the catalog only catches mistakes early. Those choices are listed at the end.
        """;

    private const string Guesses = """
        ## Where the catalog guesses

        Each of these is marked `unconfirmed` in the code.

        - `cluster_id` on `pipelines.create` is required only by organizations Buildkite created with clusters as the
          default; it is not required here.
        - `teams.create` requires only `name`, and `teams.update` nothing: the docs mark all ten team settings
          required (on the PATCH too), but the list grew from six to ten over time without breaking older callers.
        - Meta-data values may be at most "100 KB": read as 102,400 bytes, the larger reading.
        - `env` and `meta_data` values may be strings, numbers or booleans (the docs' own example sends `true`);
          objects and arrays are refused.
        - `retry_failed_jobs` `states` is documented as a comma-separated string; an array of states is accepted too.
        - `teams` on `pipelines.create` may be the documented map of team UUID to access level or the deprecated
          array of UUIDs; its content is not checked. `maintainers` on `clusters.create` may be an object or an array.
        - No bounds are checked on `jobs.reprioritize` `priority`, `agents.pause` `timeout_in_minutes` or the pipeline
          step timeouts, as none are documented. Hosted queue instance shapes are not checked against a list.
        - `visibility` takes `private` or `public` exactly, as documented.
        - `GET /user` needs `read_user`, per Buildkite's user API page (the fixture gives no scope).
        - Numbers written with a zero fraction (`5.0`) count as integers.
        """;

    public static string Render(EndpointCatalog catalog)
    {
        var text = new StringBuilder();
        text.Append(Intro).Append("\n\n## Endpoints\n\n");
        text.Append("| id | method | path | scope | body | required fields |\n");
        text.Append("|---|---|---|---|---|---|\n");
        foreach (var endpoint in catalog.Endpoints)
        {
            text.Append(CultureInfo.InvariantCulture, $"| [`{endpoint.Id}`](#{Anchor(endpoint.Id)}) | {string.Join(" or ", endpoint.Methods)} | `{endpoint.PathTemplate}` | {Code(endpoint.Scope) ?? "none"} | {(endpoint.TakesBody ? "yes" : "no")} | {RequiredSummary(endpoint)} |\n");
        }

        foreach (var endpoint in catalog.Endpoints)
        {
            text.Append('\n');
            AppendEndpoint(text, endpoint);
        }

        text.Append('\n').Append(Guesses).Append('\n');
        return text.ToString();
    }

    private static void AppendEndpoint(StringBuilder text, EndpointDefinition endpoint)
    {
        text.Append(CultureInfo.InvariantCulture, $"### {endpoint.Id}\n\n{endpoint.Summary}.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"- Method: {string.Join(" or ", endpoint.Methods.Select(method => $"`{method}`"))}\n");
        text.Append(CultureInfo.InvariantCulture, $"- Path: `{endpoint.PathTemplate}`");
        var alternates = endpoint.Paths.Skip(1).Select(path => $"`{path.Text}`").ToList();
        if (alternates.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" (also {string.Join(", ", alternates)})");
        }

        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"- Scope: {Code(endpoint.Scope) ?? "none"}\n");
        text.Append(CultureInfo.InvariantCulture, $"- Body: {(endpoint.TakesBody ? $"a JSON object, one {endpoint.Noun} per call" : "none (a body sent anyway is ignored; its fields are reported as unknown)")}\n");
        if (endpoint.Aliases.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"- Also found as: {string.Join(", ", endpoint.Aliases.Select(alias => $"`{alias}`"))}\n");
        }

        if (endpoint.TakesBody)
        {
            text.Append("\n| field | type | required | values, limits, notes |\n|---|---|---|---|\n");
            AppendFields(text, endpoint.Body, prefix: null);
        }

        if (endpoint.Notes.Count > 0)
        {
            text.Append('\n');
            foreach (var note in endpoint.Notes)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {note}\n");
            }
        }
    }

    private static void AppendFields(StringBuilder text, ObjectSchema schema, string? prefix)
    {
        var group = schema.OneOfRequired;
        foreach (var field in schema.Fields)
        {
            var path = prefix is null ? field.Name : $"{prefix}.{field.Name}";
            var required = field.IsRequired ? (prefix is null ? "yes" : $"yes, when `{prefix}` is given")
                : group is not null && group.Members.Contains(field.Name) ? "one of " + string.Join(", ", group.Members.Select(member => $"`{member}`"))
                : string.Empty;
            text.Append(CultureInfo.InvariantCulture, $"| `{path}` | {TypeName(field)} | {required} | {Constraints(field)} |\n");
            if (field.Properties is { } properties)
            {
                AppendFields(text, properties, path);
            }
        }
    }

    private static string TypeName(FieldSpec field)
    {
        if (field.Kinds == JsonKinds.Array && field.Items is { } items)
        {
            return $"array of {Kinds(items.Kinds)}";
        }

        if (field.Kinds == JsonKinds.Object && field.Values is { } values)
        {
            return $"object of {Kinds(values.Kinds)}";
        }

        return Kinds(field.Kinds);
    }

    private static string Kinds(JsonKinds kinds)
    {
        var names = new List<string>();
        if ((kinds & JsonKinds.String) != 0)
        {
            names.Add("string");
        }

        if ((kinds & JsonKinds.Number) != 0)
        {
            names.Add("number");
        }
        else if ((kinds & JsonKinds.Integer) != 0)
        {
            names.Add("integer");
        }

        if ((kinds & JsonKinds.Boolean) != 0)
        {
            names.Add("boolean");
        }

        if ((kinds & JsonKinds.Object) != 0)
        {
            names.Add("object");
        }

        if ((kinds & JsonKinds.Array) != 0)
        {
            names.Add("array");
        }

        return string.Join(" or ", names);
    }

    private static string Constraints(FieldSpec field)
    {
        var parts = new List<string>();
        if (field.RefusedBecause is not null)
        {
            parts.Add("**refused**: " + field.RefusedBecause);
        }

        parts.AddRange(Limits(field));
        if (field.Values is { } values)
        {
            parts.AddRange(Limits(values).Select(limit => "each value " + limit));
        }

        if (field.Items is { } items && !(field.IsCommaList && items.AllowedValues is not null))
        {
            parts.AddRange(Limits(items).Select(limit => "each item " + limit));
        }

        if (field.Kinds == JsonKinds.Object && field.Properties is null && field.Values is null)
        {
            parts.Add("free-form");
        }

        if (field.Hint is not null)
        {
            parts.Add(field.Hint);
        }

        return string.Join("; ", parts).Replace("|", "\\|", StringComparison.Ordinal);
    }

    private static IEnumerable<string> Limits(FieldSpec field)
    {
        if (field.AllowedValues is { } allowed)
        {
            var list = string.Join(", ", allowed.Select(value => $"`{value}`"));
            yield return field.IsCommaList ? $"a comma-separated list (or an array) of {list}" : $"one of {list}";
        }

        if (field.Minimum is { } min && field.Maximum is { } max)
        {
            yield return $"{min}–{max}";
        }

        if (field.MaxUtf8Bytes is { } bytes)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"at most {bytes:N0} bytes of UTF-8 ({Binary(bytes)})");
        }

        if (field.Format is { } format)
        {
            yield return $"a {format.Name}: {format.Description}";
        }

        if (field.MaxLength is { } length)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"at most {length:N0} characters");
        }

        if (field.MustNotBeBlank)
        {
            yield return "not blank";
        }
    }

    private static string Binary(int bytes) => bytes % (1024 * 1024) == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB");

    private static string RequiredSummary(EndpointDefinition endpoint)
    {
        if (!endpoint.TakesBody)
        {
            return "—";
        }

        var required = endpoint.Body.Fields.Where(field => field.IsRequired).Select(field => $"`{field.Name}`").ToList();
        if (endpoint.Body.OneOfRequired is { } group)
        {
            required.Add(string.Join(" or ", group.Members.Select(member => $"`{member}`")));
        }

        return required.Count == 0 ? "none" : string.Join(", ", required);
    }

    private static string? Code(string? text) => text is null ? null : $"`{text}`";

    private static string Anchor(string id) => id.Replace(".", string.Empty, StringComparison.Ordinal);
}
