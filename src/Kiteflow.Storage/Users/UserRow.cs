namespace Kiteflow.Storage;

/// <summary>A user.</summary>
/// <param name="Id">The store's id.</param>
/// <param name="Name">The login name.</param>
/// <param name="PasswordHash">The password hash (ASP.NET Core Identity's format).</param>
/// <param name="Role">The role, e.g. <c>admin</c>.</param>
/// <param name="CreatedAt">When.</param>
public sealed record UserRow(long Id, string Name, string PasswordHash, string Role, DateTimeOffset CreatedAt);
