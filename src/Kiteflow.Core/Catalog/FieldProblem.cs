namespace Kiteflow.Core.Catalog;

/// <summary>One reason a request body would be refused.</summary>
/// <param name="Field">
/// The field's path in the body: dotted for nested objects (<c>author.email</c>), with an index for array items
/// (<c>tags[2]</c>), or <c>(body)</c> when the body as a whole is wrong.
/// </param>
/// <param name="Message">A whole sentence that names the field and says what to do.</param>
public sealed record FieldProblem(string Field, string Message);
