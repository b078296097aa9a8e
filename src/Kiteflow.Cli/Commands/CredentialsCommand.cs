using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiteflow.Core.Json;
using Kiteflow.Delivery.Credentials;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow credentials add|list|check|remove</c>: the named Buildkite API tokens Kiteflow sends with, stored
/// encrypted (docs/credentials.md). A token is read from an environment variable, never from the command line
/// (where the shell history and the process list would keep it), and no command ever prints it.
/// </summary>
internal static class CredentialsCommand
{
    public static Command Create() => new("credentials", "Add, list, check and remove the Buildkite API tokens Kiteflow sends with. They are stored encrypted (docs/credentials.md).")
    {
        CreateAdd(),
        CreateList(),
        CreateCheck(),
        CreateRemove(),
    };

    private static Argument<string> NameArgument() => new("NAME") { Description = "The credential's name: 1 to 64 letters, digits, '.', '_' or '-' (e.g. sandbox, acme-release)." };

    private static Command CreateAdd()
    {
        var name = NameArgument();
        var tokenEnv = new Option<string>("--token-env")
        {
            Description = "The NAME of the environment variable holding the token (e.g. BUILDKITE_API_TOKEN). The token itself is never given on the command line.",
            Required = true,
        };
        var apiBase = new Option<string?>("--api-base") { Description = "Where the token may be sent (default https://api.buildkite.com); e.g. the sandbox's http://127.0.0.1:PORT. Plain http only on loopback." };
        var replace = new Option<bool>("--replace") { Description = "Replace a credential of the same name." };
        var command = new Command("add", "Store a token under a name, encrypted. Read it from an environment variable: read -rs BUILDKITE_API_TOKEN && export BUILDKITE_API_TOKEN")
        {
            name, tokenEnv, apiBase, replace,
        };
        command.SetAction(parseResult => Add(
            parseResult.GetRequiredValue(name),
            parseResult.GetRequiredValue(tokenEnv),
            parseResult.GetValue(apiBase),
            parseResult.GetValue(replace),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Write the list as one JSON document." };
        var command = new Command("list", "List the stored credentials: name, API base, when added. Never the token.") { json };
        command.SetAction(parseResult => List(parseResult.GetValue(json), parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static Command CreateCheck()
    {
        var name = NameArgument();
        var json = new Option<bool>("--json") { Description = "Write the result as one JSON document." };
        var command = new Command("check", "Ask Buildkite (GET /v2/access-token) whether a credential's token works: its scopes, expiry, user and description. Exit 1 when it is refused or unreachable.")
        {
            name, json,
        };
        command.SetAction((parseResult, cancellationToken) => CheckAsync(
            parseResult.GetRequiredValue(name),
            parseResult.GetValue(json),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static Command CreateRemove()
    {
        var name = NameArgument();
        var command = new Command("remove", "Remove a stored credential. (The token stays valid at Buildkite: revoke it there if it should stop working.)") { name };
        command.SetAction(parseResult => Remove(parseResult.GetRequiredValue(name), parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    public static int Add(string name, string tokenVariable, string? apiBaseText, bool replace, TextWriter output, TextWriter error)
    {
        var problems = new List<string>();
        if (CredentialRules.NameProblem(name) is { } nameProblem)
        {
            problems.Add($"NAME: {nameProblem}");
        }

        Uri? apiBase = null;
        if (apiBaseText is not null)
        {
            if (!Uri.TryCreate(apiBaseText, UriKind.Absolute, out apiBase))
            {
                problems.Add($"--api-base: '{CommonOptions.Shown(apiBaseText)}' is not a URL such as https://api.buildkite.com or http://127.0.0.1:43121.");
            }
            else if (CredentialRules.ApiBaseProblem(apiBase) is { } apiBaseProblem)
            {
                problems.Add($"--api-base: {apiBaseProblem}");
            }
        }

        var token = ReadToken(tokenVariable, problems);
        if (problems.Count > 0)
        {
            problems.ForEach(p => error.WriteLine($"kiteflow: {p}"));
            return ExitCodes.InvalidSettings;
        }

        var store = CredentialStore.FromEnvironment();
        var keyFileExisted = File.Exists(store.KeyFilePath);
        Credential credential;
        try
        {
            credential = store.Add(name, token!, apiBase, replace);
        }
        catch (CredentialException e) when (e.Kind == CredentialErrorKind.AlreadyExists)
        {
            error.WriteLine($"kiteflow: {e.Message} Add --replace to replace it, or choose another name.");
            return ExitCodes.InvalidSettings;
        }
        catch (CredentialException e)
        {
            return Fail(e, error);
        }

        output.WriteLine($"Stored credential {credential.Name} for {credential.ApiBase.OriginalString}, encrypted, in {store.FilePath}.");
        if (!keyFileExisted && File.Exists(store.KeyFilePath))
        {
            output.WriteLine($"A new master key was made in {store.KeyFilePath} (mode 0600): without it the credentials cannot be read; see docs/credentials.md.");
        }

        output.WriteLine($"Check that Buildkite accepts it: kiteflow credentials check {credential.Name}");
        return ExitCodes.Success;
    }

    public static int List(bool asJson, TextWriter output, TextWriter error)
    {
        var store = CredentialStore.FromEnvironment();
        IReadOnlyList<CredentialSummary> credentials;
        try
        {
            credentials = store.List();
        }
        catch (CredentialException e)
        {
            return Fail(e, error);
        }

        if (asJson)
        {
            output.WriteLine(Json(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("store", store.FilePath);
                writer.WriteStartArray("credentials");
                foreach (var credential in credentials)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", CredentialRules.Displayable(credential.Name));
                    writer.WriteString("apiBase", credential.ApiBase.OriginalString);
                    writer.WriteString("createdAt", credential.CreatedAt.UtcDateTime);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }));
            return ExitCodes.Success;
        }

        if (credentials.Count == 0)
        {
            output.WriteLine($"No credentials in {store.FilePath}. Add one: kiteflow credentials add NAME --token-env VARIABLE");
            return ExitCodes.Success;
        }

        var nameWidth = Math.Max("NAME".Length, credentials.Max(c => CredentialRules.Displayable(c.Name).Length));
        var baseWidth = Math.Max("API BASE".Length, credentials.Max(c => c.ApiBase.OriginalString.Length));
        output.WriteLine($"{"NAME".PadRight(nameWidth)}  {"API BASE".PadRight(baseWidth)}  CREATED");
        foreach (var credential in credentials)
        {
            output.WriteLine($"{CredentialRules.Displayable(credential.Name).PadRight(nameWidth)}  {credential.ApiBase.OriginalString.PadRight(baseWidth)}  {Time(credential.CreatedAt)}");
        }

        return ExitCodes.Success;
    }

    public static async Task<int> CheckAsync(string name, bool asJson, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (CredentialRules.NameProblem(name) is { } nameProblem)
        {
            error.WriteLine($"kiteflow: NAME: {nameProblem}");
            return ExitCodes.InvalidSettings;
        }

        Credential credential;
        try
        {
            credential = CredentialStore.FromEnvironment().Get(name);
        }
        catch (CredentialException e)
        {
            return Fail(e, error);
        }

        AccessTokenResult result;
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            result = await new AccessTokenClient(http).GetAsync(credential, cancellationToken).ConfigureAwait(false);
        }

        if (asJson)
        {
            output.WriteLine(CheckJson(credential, result));
        }
        else if (result.Token is { } info)
        {
            WriteTokenInfo(credential, info, output);
        }

        if (!result.IsValid)
        {
            error.WriteLine($"kiteflow: credential {credential.Name} ({credential.ApiBase.OriginalString}): {result.Message}");
            return ExitCodes.Error;
        }

        return ExitCodes.Success;
    }

    public static int Remove(string name, TextWriter output, TextWriter error)
    {
        if (CredentialRules.NameProblem(name) is { } nameProblem)
        {
            error.WriteLine($"kiteflow: NAME: {nameProblem}");
            return ExitCodes.InvalidSettings;
        }

        var store = CredentialStore.FromEnvironment();
        try
        {
            if (!store.Remove(name))
            {
                error.WriteLine($"kiteflow: no credential is named '{name}' in {store.FilePath}; kiteflow credentials list shows the names.");
                return ExitCodes.InvalidSettings;
            }
        }
        catch (CredentialException e)
        {
            return Fail(e, error);
        }

        output.WriteLine($"Removed credential {name} from {store.FilePath}. The token still works at Buildkite until it is revoked there.");
        return ExitCodes.Success;
    }

    /// <summary>The token from the variable named, trimmed; null (and a problem) when it cannot be used. No message shows the value.</summary>
    private static string? ReadToken(string variable, List<string> problems)
    {
        // Someone may have passed the token itself: the rule says so without repeating what was given.
        if (CredentialRules.VariableNameProblem(variable) is { } variableProblem)
        {
            problems.Add($"--token-env: {variableProblem}");
            return null;
        }

        var value = Environment.GetEnvironmentVariable(variable);
        if (value is null)
        {
            problems.Add($"--token-env: the environment variable {variable} is not set. Put the token in it first (read -rs {variable} && export {variable}), then run this again.");
            return null;
        }

        var token = value.Trim();
        if (token.Length == 0)
        {
            problems.Add($"--token-env: the environment variable {variable} is empty. Put the token in it first (read -rs {variable} && export {variable}), then run this again.");
            return null;
        }

        if (CredentialRules.TokenProblem(token) is { } tokenProblem)
        {
            problems.Add($"--token-env {variable}: {tokenProblem}");
            return null;
        }

        return token;
    }

    private static void WriteTokenInfo(Credential credential, TokenInfo info, TextWriter output)
    {
        output.WriteLine($"Credential {credential.Name}: {credential.ApiBase.OriginalString}");
        output.WriteLine($"  valid token {info.Uuid}");
        output.WriteLine($"  description  {info.Description ?? "(none)"}");
        var user = (info.UserName, info.UserEmail) switch
        {
            ({ } n, { } e) => $"{n} <{e}>",
            ({ } n, null) => n,
            (null, { } e) => e,
            _ => "(not given)",
        };
        output.WriteLine($"  user         {user}");
        output.WriteLine($"  scopes       {(info.Scopes.Count == 0 ? "(none)" : string.Join(", ", info.Scopes))}");
        output.WriteLine($"  created      {(info.CreatedAt is { } created ? Time(created) : "(not given)")}");
        output.WriteLine($"  expires      {(info.ExpiresAt is { } expires ? $"{Time(expires)} ({Relative(expires - DateTimeOffset.UtcNow)})" : "never")}");
    }

    private static string CheckJson(Credential credential, AccessTokenResult result) => Json(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("name", credential.Name);
        writer.WriteString("apiBase", credential.ApiBase.OriginalString);
        writer.WriteString("status", JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Status.ToString()));
        if (result.HttpStatus is { } status)
        {
            writer.WriteNumber("httpStatus", status);
        }
        else
        {
            writer.WriteNull("httpStatus");
        }

        writer.WriteString("message", result.Message);
        if (result.Token is { } info)
        {
            writer.WriteStartObject("details");
            writer.WriteString("uuid", info.Uuid);
            writer.WriteStartArray("scopes");
            info.Scopes.ToList().ForEach(writer.WriteStringValue);
            writer.WriteEndArray();
            writer.WriteString("description", info.Description);
            WriteTime(writer, "createdAt", info.CreatedAt);
            WriteTime(writer, "expiresAt", info.ExpiresAt);
            writer.WriteStartObject("user");
            writer.WriteString("name", info.UserName);
            writer.WriteString("email", info.UserEmail);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("details");
        }

        writer.WriteEndObject();
    });

    private static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            writer.WriteString(name, time.UtcDateTime);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static string Json(Action<Utf8JsonWriter> write) => Encoding.UTF8.GetString(JsonText.Utf8(write, indented: true));

    private static int Fail(CredentialException e, TextWriter error)
    {
        var hint = e.Kind == CredentialErrorKind.NotFound ? " kiteflow credentials list shows the names." : string.Empty;
        error.WriteLine($"kiteflow: {e.Message}{hint}");
        return e.Kind == CredentialErrorKind.NotFound ? ExitCodes.InvalidSettings : ExitCodes.Error;
    }

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Relative(TimeSpan span)
    {
        var ago = span < TimeSpan.Zero;
        var length = ago ? -span : span;
        var text = length.TotalDays >= 2 ? $"{(int)length.TotalDays} days"
            : length.TotalHours >= 2 ? $"{(int)length.TotalHours} hours"
            : $"{Math.Max(1, (int)length.TotalMinutes)} minutes";
        return ago ? $"expired {text} ago" : $"in {text}";
    }
}
