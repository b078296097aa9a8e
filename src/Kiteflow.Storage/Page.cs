namespace Kiteflow.Storage;

/// <summary>One page of a list, and where the next one starts.</summary>
/// <typeparam name="T">The items.</typeparam>
/// <param name="Items">The items of this page, in order.</param>
/// <param name="Next">The cursor of the next page, or null when this is the last.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, long? Next);
