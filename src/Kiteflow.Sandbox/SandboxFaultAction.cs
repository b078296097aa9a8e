namespace Kiteflow.Sandbox;

/// <summary>What a firing <see cref="SandboxFaultRule"/> does.</summary>
public enum SandboxFaultAction
{
    /// <summary>Answer with the rule's status and a JSON <c>message</c>.</summary>
    Respond,

    /// <summary>Close the connection without an answer.</summary>
    Drop,

    /// <summary>Never answer, until the client gives up or the sandbox stops.</summary>
    Hang,

    /// <summary>Wait <see cref="SandboxFaultRule.DelayMs"/>, then handle the request normally.</summary>
    Delay,
}
