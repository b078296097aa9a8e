namespace Kiteflow.Sandbox;

/// <summary>
/// A failure the sandbox injects into matching API requests, as set with <c>--faults FILE</c>,
/// <c>POST {base}/_sandbox/faults</c> or <see cref="SandboxServer.SetFaults"/>.
/// Rules are tried in order; the first that matches and fires applies.
/// </summary>
public sealed class SandboxFaultRule
{
    /// <summary>The HTTP method to match; <see langword="null"/> or <c>*</c> (the default) matches any.</summary>
    public string? Method { get; set; }

    /// <summary>
    /// The request path to match, e.g. <c>/v2/organizations/*/pipelines/*/builds</c>: <c>*</c> matches one
    /// path segment, <c>**</c> any number of them. Default: <c>/**</c>, every path.
    /// </summary>
    public string Path { get; set; } = "/**";

    /// <summary>
    /// <see cref="SandboxFaultWhen.Before"/> (the default) fails the request without touching state;
    /// <see cref="SandboxFaultWhen.After"/> does the work first and then fails the answer.
    /// </summary>
    public SandboxFaultWhen When { get; set; } = SandboxFaultWhen.Before;

    /// <summary>The chance, from 0 to 1, that a matching request fires the rule. Default: 1.</summary>
    public double Probability { get; set; } = 1;

    /// <summary>How many times the rule may fire; <see langword="null"/> (the default) is unlimited.</summary>
    public int? Count { get; set; }

    /// <summary>The status a <see cref="SandboxFaultAction.Respond"/> answers. Default: 503.</summary>
    public int Status { get; set; } = 503;

    /// <summary>Milliseconds to wait before the action (for <see cref="SandboxFaultAction.Delay"/>, the whole effect). Default: 0.</summary>
    public int DelayMs { get; set; }

    /// <summary>What happens when the rule fires. Default: <see cref="SandboxFaultAction.Respond"/>.</summary>
    public SandboxFaultAction Action { get; set; } = SandboxFaultAction.Respond;
}
