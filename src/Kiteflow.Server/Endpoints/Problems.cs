using Microsoft.AspNetCore.Http.HttpResults;

namespace Kiteflow.Server.Endpoints;

/// <summary>RFC 9457 problem details as every endpoint writes them: validation errors keyed by the field they are about.</summary>
internal static class Problems
{
    public static ValidationProblem Invalid(Dictionary<string, List<string>> errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()), title: "The request is not valid", detail: "Each entry of errors names a field of the request and what is wrong with it.");

    public static ValidationProblem Invalid(string field, string message) => Invalid(new Dictionary<string, List<string>> { [field] = [message] });

    public static ProblemHttpResult NotFound(string what, string name) =>
        TypedResults.Problem(title: $"No such {what}", detail: $"There is no {what} named '{name}'.", statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult Status(int status, string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status);

    public static void Add(this Dictionary<string, List<string>> errors, string field, string message)
    {
        if (!errors.TryGetValue(field, out var list))
        {
            list = [];
            errors[field] = list;
        }

        list.Add(message);
    }
}
