namespace Kiteflow.Sandbox;

/// <summary>When a <see cref="SandboxFaultRule"/> strikes.</summary>
public enum SandboxFaultWhen
{
    /// <summary>Before the request is handled: nothing changes.</summary>
    Before,

    /// <summary>After the request was handled: the change is made, the answer is lost.</summary>
    After,
}
