namespace Kiteflow.Delivery.Sending;

/// <summary>How an endpoint test call went.</summary>
public enum TestCallOutcome
{
    /// <summary>The API answered: <see cref="TestCallResult.Status"/> says how (2xx, or a refusal, a 429, a 5xx).</summary>
    Answered,

    /// <summary>The connection failed before the request was written: nothing reached the API.</summary>
    NotSent,

    /// <summary>The request was sent and no answer came (timeout, dropped connection): it may have been processed.</summary>
    NoAnswer,
}
