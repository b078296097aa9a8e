namespace Kiteflow.Delivery;

/// <summary>One API call a run made, for metrics: what kind, how it was answered, how long it took.</summary>
/// <param name="Kind"><c>attempt</c> (a try of a planned request) or <c>lookup</c> (a create-build looked up by its delivery id).</param>
/// <param name="Status">The HTTP status; null when there was no answer.</param>
/// <param name="Duration">From sending to the end of the answer (or the failure).</param>
public readonly record struct DeliveryCall(string Kind, int? Status, TimeSpan Duration);
