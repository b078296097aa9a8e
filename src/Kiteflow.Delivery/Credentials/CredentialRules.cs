using System.Text.RegularExpressions;
using Kiteflow.Core.Templating;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// What a credential's name, token and API base must be. Each check returns null when the value is fine,
/// else a message that names the problem and what to do; a message never contains the token.
/// </summary>
internal static partial class CredentialRules
{
    /// <summary>The API base when none is given.</summary>
    public static readonly Uri DefaultApiBase = new("https://api.buildkite.com");

    /// <summary>Buildkite's tokens are about 40 characters; anything far longer is a pasted file, not a token.</summary>
    private const int MaxTokenLength = 1024;

    /// <summary>Null when <paramref name="name"/> is a valid credential name.</summary>
    public static string? NameProblem(string name) =>
        NamePattern().IsMatch(name)
            ? null
            : $"'{Printable(name)}' is not a credential name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. sandbox, acme-release).";

    /// <summary>Null when <paramref name="token"/> can be sent as a bearer token.</summary>
    public static string? TokenProblem(string token)
    {
        if (token.Length == 0)
        {
            return "the token is empty.";
        }

        if (token.Length > MaxTokenLength)
        {
            return $"the token is {token.Length} characters long; a Buildkite API token is about 40 (bkua_…). Check what the variable holds.";
        }

        // A space, control character or non-ASCII letter would corrupt the Authorization header, and the
        // header parser's own error would quote the value: refuse it here without showing it.
        foreach (var c in token)
        {
            if (c is < '!' or > '~')
            {
                return "the token contains a space, a control character (such as a line break) or a non-ASCII character; a Buildkite API token is printable ASCII (bkua_…). Check what the variable holds.";
            }
        }

        return null;
    }

    /// <summary>Null when <paramref name="apiBase"/> is https, or plain http on a loopback address, with nothing after the host but a path prefix.</summary>
    public static string? ApiBaseProblem(Uri apiBase)
    {
        if (!apiBase.IsAbsoluteUri || (apiBase.Scheme != Uri.UriSchemeHttps && apiBase.Scheme != Uri.UriSchemeHttp))
        {
            return $"the API base '{apiBase.OriginalString}' is not an http(s) URL such as https://api.buildkite.com or the sandbox's http://127.0.0.1:PORT.";
        }

        if (apiBase.Scheme == Uri.UriSchemeHttp && !IsLoopback(apiBase))
        {
            return $"the API base {apiBase.GetLeftPart(UriPartial.Authority)} is plain http: the token would cross the network unencrypted. Use https; plain http is allowed only for a loopback address such as the sandbox.";
        }

        if (apiBase.UserInfo.Length > 0)
        {
            return "the API base holds a user name or password; give the host alone (the token is the only credential sent).";
        }

        if (apiBase.Query.Length > 0 || apiBase.Fragment.Length > 0)
        {
            return $"the API base '{apiBase.GetLeftPart(UriPartial.Path)}…' has a query or fragment; give the scheme, host, port and at most a path prefix.";
        }

        var path = apiBase.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/v2", StringComparison.OrdinalIgnoreCase))
        {
            return $"the API base '{apiBase.OriginalString}' ends with /v2; give it without the version (e.g. https://api.buildkite.com): Kiteflow adds /v2/… itself.";
        }

        return null;
    }

    /// <summary>The API base without a trailing slash, query or fragment, e.g. <c>http://127.0.0.1:43121</c>.</summary>
    public static Uri NormalizeApiBase(Uri apiBase) => new(apiBase.GetLeftPart(UriPartial.Path).TrimEnd('/'));

    /// <summary>True for 127.0.0.0/8, ::1 and localhost (the rule the URL template applies too).</summary>
    public static bool IsLoopback(Uri uri) => UrlTemplate.IsLoopback(uri);

    /// <summary>A name as it can be quoted in a message: control characters shown as '?', at most 80 characters.</summary>
    private static string Printable(string text)
    {
        var shown = text.Length > 80 ? text[..80] + "…" : text;
        return string.Create(shown.Length, shown, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    // \z, not $: $ also matches before a final line break, which would let "name\n" through.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex NamePattern();
}
