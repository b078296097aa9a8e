using System.Net;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Templating;

/// <summary>
/// A compiled URL template (SPEC §2.3). The scheme and host are written out, never taken from a
/// record, and must be Buildkite's (or the credential's API base); each macro's value is encoded
/// for the place it stands, so a record can change a segment's value but never the URL's shape.
/// </summary>
internal sealed class UrlTemplate
{
    /// <summary>Where the token goes by default.</summary>
    public static readonly Uri BuildkiteApi = new("https://api.buildkite.com");

    private readonly Piece[] _pieces;

    private UrlTemplate(string text, Piece[] pieces, IReadOnlyList<string?>? apiSegments, bool hasMacros)
    {
        Text = text;
        _pieces = pieces;
        ApiSegments = apiSegments;
        HasMacros = hasMacros;
    }

    private enum Place
    {
        PathSegment,
        Query,
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>
    /// The path segments after <c>/v2</c>, with null where a macro stands (what the endpoint catalog
    /// matches on); null when the path is not under <c>/v2</c>.
    /// </summary>
    public IReadOnlyList<string?>? ApiSegments { get; }

    /// <summary>Whether any part of the URL comes from the record.</summary>
    public bool HasMacros { get; }

    /// <summary>The macros, in order.</summary>
    public IEnumerable<Macro> Macros => _pieces.Where(p => p.Macro is not null).Select(p => p.Macro!);

    /// <summary>
    /// Compiles <paramref name="text"/>. <paramref name="apiBase"/> is the credential's API base (null:
    /// <c>https://api.buildkite.com</c>); a template written for api.buildkite.com is sent there instead.
    /// </summary>
    public static UrlTemplate? Compile(string text, Uri? apiBase, List<SettingsProblem> problems)
    {
        var errors = new List<string>();
        var parts = TemplateParts.Split(text, errors);
        foreach (var error in errors)
        {
            problems.Add(new SettingsProblem("url", error));
        }

        if (errors.Count > 0)
        {
            return null;
        }

        if (parts.Count == 0 || parts[0].Literal is not { } first || first.IndexOf("://", StringComparison.Ordinal) is var schemeEnd && schemeEnd < 0)
        {
            problems.Add(new SettingsProblem("url", $"'{text}' must start with https:// and the host, e.g. https://api.buildkite.com/v2/organizations/{{org}}/pipelines/{{pipeline}}/builds."));
            return null;
        }

        var authorityEnd = first.IndexOfAny(['/', '?', '#'], schemeEnd + 3);
        if (authorityEnd < 0 && parts.Count > 1)
        {
            problems.Add(new SettingsProblem("url", "The host must be written out in full; a macro cannot choose where the token is sent."));
            return null;
        }

        if (authorityEnd < 0)
        {
            authorityEnd = first.Length;
        }

        if (!Uri.TryCreate(first[..authorityEnd], UriKind.Absolute, out var origin) || origin.UserInfo.Length > 0)
        {
            problems.Add(new SettingsProblem("url", $"'{first[..authorityEnd]}' is not a valid scheme and host."));
            return null;
        }

        var target = ResolveOrigin(origin, apiBase, problems);
        if (target is null)
        {
            return null;
        }

        if (text.Contains('#', StringComparison.Ordinal))
        {
            problems.Add(new SettingsProblem("url", "A URL sent to an API cannot have a fragment ('#'); remove it."));
            return null;
        }

        // Build the pieces: the target origin, then the rest with each macro's place.
        var pieces = new List<Piece> { new(target, null, Place.PathSegment, false) };
        var restParts = new List<TemplateParts.Part>();
        if (authorityEnd < first.Length)
        {
            restParts.Add(new TemplateParts.Part(first[authorityEnd..], null));
        }

        restParts.AddRange(parts.Skip(1));
        var inQuery = false;
        var path = new StringBuilder();
        for (var i = 0; i < restParts.Count; i++)
        {
            var part = restParts[i];
            if (part.Literal is { } literal)
            {
                pieces.Add(new Piece(literal, null, Place.PathSegment, false));
                if (!inQuery)
                {
                    var q = literal.IndexOf('?', StringComparison.Ordinal);
                    path.Append(q < 0 ? literal : literal[..q]);
                    inQuery = q >= 0;
                }

                continue;
            }

            var place = inQuery ? Place.Query : Place.PathSegment;
            var wholeSegment = place == Place.PathSegment
                && (i == 0 ? authorityEnd < first.Length && first.EndsWith('/') : EndsWithSlash(restParts[i - 1]))
                && (i == restParts.Count - 1 || StartsSegmentEnd(restParts[i + 1]));
            pieces.Add(new Piece(null, part.Macro, place, wholeSegment));
            if (!inQuery)
            {
                path.Append('\0');  // marks a segment that holds a macro
            }
        }

        var segments = path.ToString().Split('/');
        if (Array.Exists(segments, s => UrlEncoding.IsDotSegment(s)))
        {
            problems.Add(new SettingsProblem("url", "The path has a '.' or '..' segment; write the path out in full."));
            return null;
        }

        IReadOnlyList<string?>? apiSegments = null;
        if (segments.Length >= 2 && segments[0].Length == 0 && segments[1] == "v2")
        {
            apiSegments = segments.Skip(2).Where(s => s.Length > 0)
                .Select(s => s.Contains('\0', StringComparison.Ordinal) ? null : Uri.UnescapeDataString(s))
                .ToArray();
        }

        return new UrlTemplate(text, [.. pieces], apiSegments, parts.Count > 1 || parts[0].Macro is not null);
    }

    /// <summary>
    /// Appends the URL for <paramref name="record"/> to <paramref name="builder"/>. Returns null on
    /// success, or why the record cannot make a URL (naming the macro).
    /// </summary>
    public string? Resolve(JsonElement record, TemplateClock clock, StringBuilder builder) => Resolve(new ElementMacroValues(record), clock, builder, out _);

    /// <summary>
    /// Appends the URL made from <paramref name="values"/> to <paramref name="builder"/> and returns null, with the
    /// URL in <paramref name="url"/>; or returns why the record cannot make a URL (naming the macro).
    /// </summary>
    public string? Resolve<TValues>(TValues values, TemplateClock clock, StringBuilder builder, out string? url)
        where TValues : IMacroValues
    {
        url = null;
        foreach (var piece in _pieces)
        {
            if (piece.Literal is { } literal)
            {
                builder.Append(literal);
                continue;
            }

            var value = piece.Macro!.Resolve(values, clock, out var reason);
            if (value is null)
            {
                return reason;
            }

            if (piece.Place == Place.Query)
            {
                UrlEncoding.AppendQueryValue(builder, value);
                continue;
            }

            if (piece.WholeSegment && value.Length == 0)
            {
                return $"{piece.Macro.Text}: the value is empty, and a path segment cannot be empty; give the record a value or a default.";
            }

            UrlEncoding.AppendPathSegmentValue(builder, value);
        }

        url = builder.ToString();
        return DotSegmentProblem(url);
    }

    /// <summary>
    /// "." and ".." are unreserved characters, so encoding leaves them, yet as a whole segment every
    /// HTTP stack resolves them (System.Uri even decodes %2E first), which would move the request to
    /// another path. Literal dot segments are refused when compiling, so one found here came from a
    /// record, and that record is refused.
    /// </summary>
    private static string? DotSegmentProblem(string url)
    {
        if (!url.Contains("/.", StringComparison.Ordinal))
        {
            return null;
        }

        var pathStart = url.IndexOf('/', url.IndexOf("://", StringComparison.Ordinal) + 3);
        var queryStart = url.IndexOf('?', StringComparison.Ordinal);
        var path = url.AsSpan(pathStart, (queryStart < 0 ? url.Length : queryStart) - pathStart);
        foreach (var range in path.Split('/'))
        {
            if (UrlEncoding.IsDotSegment(path[range]))
            {
                return $"a value from the record makes the path segment '{path[range]}', which would change the request's path; '.' and '..' cannot be used as a segment.";
            }
        }

        return null;
    }

    private static string? ResolveOrigin(Uri origin, Uri? apiBase, List<SettingsProblem> problems)
    {
        var credentialBase = apiBase ?? BuildkiteApi;
        string target;
        if (SameOrigin(origin, BuildkiteApi) || SameOrigin(origin, credentialBase))
        {
            target = credentialBase.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }
        else
        {
            problems.Add(new SettingsProblem("url", $"Kiteflow sends the token only to {credentialBase.GetLeftPart(UriPartial.Authority)}, and this URL names {origin.GetLeftPart(UriPartial.Authority)}; use the Buildkite API host (the credential's API base replaces it, e.g. the sandbox)."));
            return null;
        }

        var targetUri = new Uri(target);
        if (targetUri.Scheme == Uri.UriSchemeHttps)
        {
            return target;
        }

        if (targetUri.Scheme == Uri.UriSchemeHttp && IsLoopback(targetUri))
        {
            return target;
        }

        problems.Add(new SettingsProblem("url", $"{targetUri.Scheme}://{targetUri.Authority} is not https; plain http is allowed only for a loopback address such as the sandbox."));
        return null;
    }

    /// <summary>True for 127.0.0.0/8, ::1 and localhost.</summary>
    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    private static bool EndsWithSlash(TemplateParts.Part part) => part.Literal is { } l && l.EndsWith('/');

    private static bool StartsSegmentEnd(TemplateParts.Part part) => part.Literal is { } l && l.Length > 0 && l[0] is '/' or '?';

    private sealed record Piece(string? Literal, Macro? Macro, Place Place, bool WholeSegment);
}
