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

    /// <summary>What a message says in place of a value that <see cref="LooksLikeToken"/>.</summary>
    public const string Hidden = "••••";

    /// <summary>
    /// Null when <paramref name="name"/> is a valid credential name. A name that <see cref="LooksLikeToken"/> is
    /// refused without being repeated: someone probably gave the token where its name was asked for.
    /// </summary>
    public static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (LooksLikeToken(name))
        {
            return "that looks like a token, not a credential name: a name is 1 to 64 letters, digits, '.', '_' or '-' of your choosing (e.g. sandbox, acme-release), and the token itself goes in an environment variable (kiteflow credentials add NAME --token-env VARIABLE).";
        }

        return IsWellFormedName(name)
            ? null
            : $"'{Printable(name)}' is not a credential name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. sandbox, acme-release).";
    }

    /// <summary>
    /// True when <paramref name="name"/> has a credential name's form, whatever it looks like. The store reads
    /// entries by this rule alone, so that a store written before <see cref="LooksLikeToken"/> was checked stays readable.
    /// </summary>
    public static bool IsWellFormedName(string name) => NamePattern().IsMatch(name);

    /// <summary>
    /// Null when <paramref name="variable"/> can name an environment variable that holds a token. The value is never
    /// repeated in the message: what is not a variable name is often the token itself.
    /// </summary>
    public static string? VariableNameProblem(string variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        const string Advice = "give the NAME of an environment variable that holds the token (e.g. BUILDKITE_API_TOKEN: read -rs BUILDKITE_API_TOKEN && export BUILDKITE_API_TOKEN); tokens are never taken from the command line.";
        if (LooksLikeToken(variable))
        {
            return $"that looks like a token, not a variable name: {Advice}";
        }

        return VariableNamePattern().IsMatch(variable)
            ? null
            : $"what was given is not a variable name (letters, digits and '_', not starting with a digit): {Advice}";
    }

    /// <summary>
    /// True when <paramref name="value"/> looks like a secret rather than a name: it holds a Buildkite token prefix
    /// (<c>bkua_</c> API access, <c>bkct_</c> cluster, <c>bkaa_</c> agent session, <c>bkaj_</c> agent job), or a run of 20
    /// or more letters and digits that switches between letters and digits at least 4 times, as random strings do (a
    /// legacy 40-hex-digit API token switches about 14 times) and names rarely do (<c>MyProject2024Token</c> switches
    /// twice). This is the one rule every message that repeats a user-given name follows.
    /// </summary>
    public static bool LooksLikeToken(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (Kiteflow.Core.Settings.TokenLiterals.Appear(value))
        {
            return true;
        }

        foreach (var match in AlphanumericRun().EnumerateMatches(value))
        {
            var run = value.AsSpan(match.Index, match.Length);
            var switches = 0;
            for (var i = 1; i < run.Length; i++)
            {
                if (char.IsAsciiDigit(run[i]) != char.IsAsciiDigit(run[i - 1]) && ++switches >= 4)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// <paramref name="text"/> with every word (a run of letters, digits, '_' and '-') that <see cref="LooksLikeToken"/>
    /// replaced by <see cref="Hidden"/>: for messages that quote what the user typed or what an unexpected error said.
    /// </summary>
    public static string HideTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Word().Replace(text, static word => LooksLikeToken(word.Value) ? Hidden : word.Value);
    }

    /// <summary>A stored name as a listing or message can show it: <see cref="Hidden"/> when it looks like a token.</summary>
    public static string Displayable(string name) => LooksLikeToken(name) ? Hidden : Printable(name);

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

    /// <summary>
    /// Null when <paramref name="apiBase"/> is https, or plain http on a loopback address, with nothing after the host but a
    /// path prefix. The message quotes the API base with anything that looks like a token hidden.
    /// </summary>
    public static string? ApiBaseProblem(Uri apiBase) => DescribeApiBaseProblem(apiBase) is { } problem ? HideTokens(problem) : null;

    private static string? DescribeApiBaseProblem(Uri apiBase)
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

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial Regex VariableNamePattern();

    [GeneratedRegex(@"[A-Za-z0-9]{20,}")]
    private static partial Regex AlphanumericRun();

    [GeneratedRegex(@"[A-Za-z0-9_-]+")]
    private static partial Regex Word();
}
