namespace Kiteflow.Storage;

/// <summary>A stored audit entry.</summary>
/// <param name="Id">Its id (increasing).</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who.</param>
/// <param name="Action">What.</param>
/// <param name="ResourceType">The kind of resource.</param>
/// <param name="ResourceName">Its name, when there is one.</param>
/// <param name="DetailsJson">Details as JSON text, or null.</param>
public sealed record AuditRow(long Id, DateTimeOffset At, string Actor, string Action, string ResourceType, string? ResourceName, string? DetailsJson);
