namespace Kiteflow.Storage;

/// <summary>One thing that happened.</summary>
/// <param name="At">When.</param>
/// <param name="Actor">Who: a user name, <c>api-key:PREFIX (user)</c>, or <c>system</c>.</param>
/// <param name="Action">What, e.g. <c>destination.update</c>, <c>session.login</c>.</param>
/// <param name="ResourceType">The kind of resource, e.g. <c>destination</c>.</param>
/// <param name="ResourceName">Its name, when there is one.</param>
/// <param name="DetailsJson">Details as JSON text (e.g. a settings diff), secrets already redacted; or null.</param>
public sealed record NewAuditEntry(DateTimeOffset At, string Actor, string Action, string ResourceType, string? ResourceName, string? DetailsJson);
