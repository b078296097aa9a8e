namespace Kiteflow.Cli.Tests;

/// <summary>
/// A token given where a name or value was asked for is never repeated, by any command: every output and error is
/// searched for it. Runs in the process-environment collection because credentials commands read KITEFLOW_HOME.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class TokenNeverEchoedTests
{
    private static readonly string[] Tokens =
    [
        "bkua_0123456789abcdef0123456789abcdef01234567",
        "bkct_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "0123456789abcdef0123456789abcdef01234567",
        "Xk3fP9aQ2mL7nB4vR8tY5wZ1",
    ];

    private static readonly (string[] Args, int ExitCode, string Says)[] Cases =
    [
        (["send", "-d", "{destination}", "-i", "{input}", "--token-env", "{token}"], 2, "that looks like a token, not a variable name"),
        (["send", "-d", "{destination}", "-i", "{input}", "--credential", "{token}"], 2, "that looks like a token, not a credential name"),
        (["credentials", "add", "{token}", "--token-env", "KF_TOKEN_TEST_UNSET"], 2, "that looks like a token, not a credential name"),
        (["credentials", "add", "acme", "--token-env", "{token}"], 2, "that looks like a token, not a variable name"),
        (["credentials", "check", "{token}"], 2, "that looks like a token, not a credential name"),
        (["credentials", "remove", "{token}"], 2, "that looks like a token, not a credential name"),
        (["preview", "-d", "{destination}", "-i", "{input}", "{token}"], 2, "looks like a token"),
        (["send", "-d", "{destination}", "-i", "{input}", "{token}"], 2, "looks like a token"),
        (["preview", "-d", "{destination}", "-i", "{input}", "-n", "{token}"], 2, "--limit: '••••' is not a whole number"),
        (["preview", "-d", "{destination}", "-i", "{input}", "--api-base", "{token}"], 2, "--api-base: '••••'"),
        (["preview", "-d", "{destination}", "-i", "{input}", "--format", "{token}"], 2, "--format: '••••'"),
        (["emulator", "--token", "{token}"], 2, "--token: a value is not TOKEN:scope,scope"),
        (["emulator", "--rate-limit", "{token}"], 2, "--rate-limit: '••••'"),
        (["preview", "-d", "{token}", "-i", "{input}"], 1, "--destination: '"),
        (["inspect", "-i", "{token}"], 1, "--input: '"),
    ];

    public static TheoryData<int, string> All()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Cases.Length; i++)
        {
            foreach (var token in Tokens)
            {
                data.Add(i, token);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Command_TokenGivenAsANameOrValue_NeverRepeated(int index, string token)
    {
        var (template, expectedExit, says) = Cases[index];
        var args = template.Select(a => a
            .Replace("{destination}", CliRunner.Example("trigger-builds/destination.json"), StringComparison.Ordinal)
            .Replace("{input}", CliRunner.Example("trigger-builds/builds.jsonl"), StringComparison.Ordinal)
            .Replace("{token}", token, StringComparison.Ordinal)).ToArray();

        var (exitCode, output, error) = await CliRunner.RunAsync(args);

        Assert.DoesNotContain(token, output);
        Assert.DoesNotContain(token, error);
        Assert.True(exitCode == expectedExit, $"exit {exitCode}: {error}");
        Assert.Contains(says, error);
    }
}
