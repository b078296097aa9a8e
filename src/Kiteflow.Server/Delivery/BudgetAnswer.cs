namespace Kiteflow.Server.Delivery;

/// <summary>A budget grain's answer to a request that asks to go.</summary>
[GenerateSerializer]
[Immutable]
public sealed record BudgetAnswer
{
    /// <summary>Whether the request took a place in flight.</summary>
    [Id(0)]
    public bool Entered { get; init; }

    /// <summary>When it did not: the reset it waits for, or null when only an answer in flight can free a place.</summary>
    [Id(1)]
    public DateTimeOffset? Until { get; init; }

    /// <summary>When it did: the time the budget entered it at, to be given back when it is released or completed.</summary>
    [Id(2)]
    public DateTimeOffset EnteredAt { get; init; }
}
