using System.Net.Http.Headers;

namespace Kiteflow.Delivery.Credentials;

/// <summary>
/// A named Buildkite API access token with the API base it may be sent to, decrypted for use.
/// The token is reachable only through <see cref="RevealToken"/> and <see cref="Authorize"/>, so that it
/// cannot leak through a property dump, a record's generated <c>ToString</c> or a debugger display.
/// </summary>
public sealed class Credential
{
    /// <summary>What output shows in place of a token.</summary>
    public const string Redacted = "••••";

    private readonly string _token;

    /// <exception cref="ArgumentException">The name, token or API base is not acceptable (the message never holds the token).</exception>
    public Credential(string name, string token, Uri apiBase, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(apiBase);
        if (CredentialRules.NameProblem(name) is { } nameProblem)
        {
            throw new ArgumentException(nameProblem, nameof(name));
        }

        if (CredentialRules.TokenProblem(token) is { } tokenProblem)
        {
            throw new ArgumentException(tokenProblem, nameof(token));
        }

        if (CredentialRules.ApiBaseProblem(apiBase) is { } apiBaseProblem)
        {
            throw new ArgumentException(apiBaseProblem, nameof(apiBase));
        }

        Name = name;
        _token = token;
        ApiBase = CredentialRules.NormalizeApiBase(apiBase);
        CreatedAt = createdAt;
    }

    /// <summary>The credential's name, e.g. <c>sandbox</c> or <c>acme-release</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Where the token may be sent: scheme, host, port and an optional path prefix, without a trailing slash
    /// (<c>https://api.buildkite.com</c> by default). Requests go to <c>{ApiBase}/v2/…</c>.
    /// </summary>
    public Uri ApiBase { get; }

    /// <summary>When the credential was added.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>True when the API base is a loopback address (the sandbox, or a local proxy): nothing real is reached.</summary>
    public bool IsLoopback => CredentialRules.IsLoopback(ApiBase);

    /// <summary>The token itself. Call this only to put it on a request; never log or print what it returns.</summary>
    public string RevealToken() => _token;

    /// <summary>Sets <c>Authorization: Bearer …</c> on a request.</summary>
    public void Authorize(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
    }

    /// <summary>Replaces every occurrence of the token in <paramref name="text"/> (e.g. a server's error body) with <see cref="Redacted"/>.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace(_token, Redacted, StringComparison.Ordinal);
    }

    /// <summary>The name and API base; the token is redacted.</summary>
    public override string ToString() => $"{Name} ({ApiBase.OriginalString}, token {Redacted})";
}
