namespace Kiteflow.Storage;

/// <summary>What an append did.</summary>
/// <param name="FirstOffset">The offset of the first record appended (or that would have been, when none were).</param>
/// <param name="Count">How many records were appended.</param>
/// <param name="RecordCount">The dataset's record count after the append.</param>
/// <param name="Replayed">True when the idempotency key had been used: nothing was appended this time, and the values are the first append's.</param>
/// <param name="IdempotentResponse">On a replay, what the first append stored with its key.</param>
public sealed record AppendResult(long FirstOffset, int Count, long RecordCount, bool Replayed, string? IdempotentResponse = null);
