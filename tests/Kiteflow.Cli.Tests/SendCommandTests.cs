using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Cli.Commands;
using Kiteflow.Delivery;
using Kiteflow.Sandbox;

namespace Kiteflow.Cli.Tests;

public sealed class SendCommandTests : IAsyncLifetime
{
    private const string Destination = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":2,"organizationRequestsPerMinute":100000,"userRequestsPerMinute":100000}}
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("kiteflow-send-").FullName;
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync() => _sandbox = await SandboxServer.StartAsync(new SandboxOptions
    {
        OrganizationLimit = RateLimitSetting.Parse("100000/60s"),
        UserLimit = RateLimitSetting.Parse("100000/60s"),
    });

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Send_AllDelivered_ExitZero_SummaryJsonAddsUp()
    {
        var (exitCode, output, error) = await SendAsync(Records(10));

        Assert.True(exitCode == 0, error);
        Assert.Contains("Delivered 10 of 10 records", output);
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, "summary.json")))!;
        Assert.Equal(10, (int)summary["records"]!);
        Assert.Equal(10, (int)summary["delivered"]!);
        Assert.Equal(0, (int)summary["rejected"]!);
        Assert.Equal(0, (int)summary["possiblyDelivered"]!);
        Assert.Equal(10, (int)summary["requests"]!);
        Assert.True(summary["durationMs"] is not null && summary["retries"] is not null && summary["rateLimitWaits"] is not null);
    }

    [Fact]
    public async Task Send_SomeRejected_ExitThree()
    {
        var (exitCode, output, _) = await SendAsync(Records(3) + "\n{\"org\":\"acme\",\"pipeline\":\"web\"}");

        Assert.Equal(ExitCodes.SomeRecordsNotDelivered, exitCode);
        Assert.Contains("Delivered 3 of 4 records (1 rejected", output);
    }

    [Fact]
    public async Task Send_HalfASurrogatePairInARecord_ThatRecordRejectedAtRead_TheOthersDelivered()
    {
        // "\ud800" parses as JSON but is not text: it stopped the whole run with an unhandled exception.
        var broken = """{"org":"acme","pipeline":"web","commit":"abc","branch":"main","message":"\ud800"}""";
        var (exitCode, output, error) = await SendAsync(Records(2) + "\n" + broken + "\n" + Records(1));

        Assert.True(exitCode == ExitCodes.SomeRecordsNotDelivered, output + error);
        Assert.Contains("Delivered 3 of 4 records (1 rejected", output);
        Assert.Equal(3, Builds().Count);
        var rejected = JsonNode.Parse(Assert.Single(File.ReadAllLines(Path.Combine(_directory, "rejected.jsonl"))))!;
        Assert.Equal(("read", 3), ((string?)rejected["error"]!["stage"], (int)rejected["line"]!));
        Assert.StartsWith("The attribute \"message\" holds \\ud800", (string?)rejected["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(broken, (string?)rejected["data"]);
    }

    [Fact]
    public async Task Send_StandardInputTwiceWithOtherRecords_EachRunSendsAllOfItsOwn()
    {
        // Standard input is the path "-" whatever it holds: the second run was taken for a rerun of the first,
        // and its first records were skipped as "delivered by an earlier run" although they were never sent.
        var destination = Write("destination.json", Destination);
        var records = Records(5).Split('\n');
        string[] args = ["send", "-d", destination, "-i", "-", "--format", "jsonl", "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", Path.Combine(_directory, "ledger.db")];
        var environment = new Dictionary<string, string?> { ["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken, ["KITEFLOW_HOME"] = _directory };

        var (firstExit, firstOutput, firstError) = await CliRunner.RunProcessAsync(args, _directory, environment, string.Join('\n', records[..2]) + "\n");
        var (secondExit, secondOutput, secondError) = await CliRunner.RunProcessAsync(args, _directory, environment, string.Join('\n', records[2..]) + "\n");

        Assert.True(firstExit == 0, firstOutput + firstError);
        Assert.True(secondExit == 0, secondOutput + secondError);
        Assert.Contains("Delivered 3 of 3 records", secondOutput);
        Assert.DoesNotContain("earlier run", secondOutput);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{i:x8}00000000000000000000000000000000"), Builds().Select(b => (string)b["commit"]!).Order());
    }

    [Fact]
    public async Task Send_RateLimitSpentWhenTheTokenIsChecked_WaitsForTheReset_AndDelivers()
    {
        // Run right after a run that spent the limit (a stop, a kill -9): the token check got a 429 and the
        // whole run failed with exit 1, telling the user to wait and run it again.
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { UserLimit = RateLimitSetting.Parse("2/3s") });
        using var client = new HttpClient { BaseAddress = sandbox.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SandboxServer.DefaultToken);
        while ((await client.GetAsync(new Uri("/v2/access-token", UriKind.Relative))).StatusCode != System.Net.HttpStatusCode.TooManyRequests)
        {
        }

        var (exitCode, output, error) = await SendAsync(Records(1), apiBase: sandbox.BaseAddress);

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("Delivered 1 of 1 records", output);
        Assert.Contains("the rate limit is spent (by an earlier run or another client); checking the token again in", error);
        var builds = JsonNode.Parse(sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray());
        Assert.Single(builds);
    }

    [Fact]
    public async Task Send_NoToken_ExitTwoSayingWhatToSet()
    {
        var (exitCode, _, error) = await SendAsync(Records(1), environment: _ => null);

        Assert.Equal(ExitCodes.InvalidSettings, exitCode);
        Assert.Contains("BUILDKITE_API_TOKEN", error);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Send_PlainHttpToANonLoopbackHost_Refused()
    {
        var (exitCode, _, error) = await SendAsync(Records(1), apiBase: new Uri("http://example.com"));

        Assert.Equal(ExitCodes.InvalidSettings, exitCode);
        Assert.Contains("--api-base", error);
    }

    [Fact]
    public async Task Send_ScopeMissing_ExitOneNothingSent_TokenNeverPrinted()
    {
        const string token = "bkua_cli_readonly_token_abcdefghijklmnop";
        _sandbox.AddToken(new SandboxToken(token, ["read_builds"]));

        var (exitCode, output, error) = await SendAsync(Records(2), environment: name => name == "BUILDKITE_API_TOKEN" ? token : null);

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Contains("write_builds", error);
        Assert.DoesNotContain(token, output + error);
        Assert.Empty(Builds());
    }

    /// <summary>
    /// A real kiteflow process killed with SIGKILL mid-run, then the same command run again: exactly one
    /// build per record, and a summary that adds up.
    /// </summary>
    [Fact]
    public async Task Send_KilledMidRunThenRunAgain_OneBuildPerRecord()
    {
        // Every build takes a while to create, so the run is still going when it is killed.
        _sandbox.SetFaults([new SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds", Action = SandboxFaultAction.Delay, DelayMs = 40 }]);
        var input = Write("input.jsonl", Records(120));
        var destination = Write("destination.json", Destination);
        string[] args = ["send", "-d", destination, "-i", input, "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", Path.Combine(_directory, "ledger.db"), "--summary-json", Path.Combine(_directory, "summary.json"), "--rejected", Path.Combine(_directory, "rejected.jsonl")];

        using (var first = StartKiteflow(args))
        {
            var deadline = Stopwatch.StartNew();
            while (Builds().Count < 30 && !first.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(20);
            }

            Assert.False(first.HasExited, "the run ended before it could be killed");
            first.Kill(entireProcessTree: true);  // SIGKILL: no chance to tidy up
            await first.WaitForExitAsync();
        }

        var killedAt = Builds().Count;
        Assert.InRange(killedAt, 30, 119);

        using var second = StartKiteflow(args);
        var output = await second.StandardOutput.ReadToEndAsync();
        var error = await second.StandardError.ReadToEndAsync();
        await second.WaitForExitAsync();

        Assert.True(second.ExitCode == 0, $"exit {second.ExitCode}: {output}\n{error}");
        var perId = Builds().GroupBy(b => (string?)b["meta_data"]!["kiteflow_delivery_id"]).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(120, perId.Count);
        Assert.All(perId, pair => Assert.True(pair.Value == 1, $"{pair.Key} made {pair.Value} builds"));
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, "summary.json")))!;
        Assert.Equal(120, (int)summary["records"]!);
        Assert.Equal(120, (int)summary["delivered"]! + (int)summary["rejected"]! + (int)summary["possiblyDelivered"]!);
        Assert.Equal(120, (int)summary["delivered"]!);
        Assert.True((int)summary["requests"]! < 120, "the second run resent builds the first one had delivered");
    }

    [Fact]
    public async Task Send_RejectedFile_RepairedAndSentWithFormatRejected_DeliversTheRest()
    {
        var records = Records(2) + "\n" + """{"org":"acme","pipeline":"web","commit":"bad00000000000000000000000000000000000a1","branch":"main",}""" + "\n" + """{"org":"acme","pipeline":"api","commit":"bad00000000000000000000000000000000000a2"}""";
        var (firstExit, _, _) = await SendAsync(records);
        Assert.Equal(ExitCodes.SomeRecordsNotDelivered, firstExit);

        // The user repairs both records where they stand: the text of the unreadable one, the object of the other.
        var rejected = File.ReadAllLines(Path.Combine(_directory, "rejected.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["read", "validate"], rejected.Select(r => (string?)r["error"]!["stage"]));
        var text = (string?)rejected[0]["data"];
        Assert.Equal("""{"org":"acme","pipeline":"web","commit":"bad00000000000000000000000000000000000a1","branch":"main",}""", text);
        rejected[0]["data"] = text!.Replace(",}", "}", StringComparison.Ordinal);
        rejected[1]["data"]!["branch"] = "main";
        var repaired = Write("repaired.jsonl", string.Join('\n', rejected.Select(r => r.ToJsonString())) + "\n");

        var (unnamed, _, unnamedError) = await SendAsync(input: repaired);
        Assert.NotEqual(0, unnamed);
        Assert.Contains("looks like a file of rejected records", unnamedError);
        Assert.Contains("--format rejected", unnamedError);

        var (exitCode, output, error) = await SendAsync(input: repaired, format: "rejected", rejectedPath: Path.Combine(_directory, "rejected-again.jsonl"));

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("Delivered 2 of 2 records", output);
        Assert.Equal(4, Builds().Count);
        Assert.Contains(Builds(), b => (string?)b["commit"] == "bad00000000000000000000000000000000000a2" && (string?)b["branch"] == "main");
    }

    [Fact]
    public async Task Send_RejectedOutputIsTheInput_RefusedBeforeAnythingIsWritten()
    {
        var input = Write("rejected.jsonl", Records(2));
        var destination = Write("destination.json", Destination);

        var (exitCode, _, error) = await CliRunner.RunAsync("send", "-d", destination, "-i", input, "--format", "jsonl", "--rejected", input, "--api-base", _sandbox.BaseAddress.ToString(), "--ledger", Path.Combine(_directory, "ledger.db"));

        Assert.Equal(ExitCodes.InvalidSettings, exitCode);
        Assert.Contains("--rejected names the same file as --input", error);
        Assert.Equal(Records(2), await File.ReadAllTextAsync(input));
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Send_ExcludedAttributeNoRecordHas_WarnedOnStderr()
    {
        // The destination excludes org and pipeline, which every record has; this one also has a typo.
        var destination = Write("typo.json", Destination.Replace("\"excludeAttributes\":[\"org\",\"pipeline\"]", "\"excludeAttributes\":[\"org\",\"pipeline\",\"mesage\"]", StringComparison.Ordinal));

        var (exitCode, _, error) = await SendAsync(Records(3), destination: destination);

        Assert.True(exitCode == 0, error);
        Assert.Contains("kiteflow: warning: excludeAttributes \"mesage\": no record has this attribute, so it leaves nothing out; did you mean \"message\"?", error);
    }

    /// <summary>KITEFLOW_LOG_LEVEL turns on delivery's log messages (the ones the server logs too) on stderr.</summary>
    [Fact]
    public async Task Send_LogLevelInformation_DeliveryLogsItsMessagesOnStderr_WithoutTheToken()
    {
        var records = Records(2) + "\n" + Records(1).Replace("\"web\"", "\"nope\"", StringComparison.Ordinal).Replace("00000000000000000000000000000000", "22222222222222222222222222222222", StringComparison.Ordinal);

        var (exitCode, _, error) = await SendAsync(records, environment: name => name switch
        {
            "BUILDKITE_API_TOKEN" => SandboxServer.DefaultToken,
            "KITEFLOW_HOME" => _directory,
            "KITEFLOW_LOG_LEVEL" => "information",
            _ => null,
        });

        Assert.Equal(ExitCodes.SomeRecordsNotDelivered, exitCode);
        Assert.Contains("kiteflow: information: Delivering 'destination'", error);
        Assert.Contains("kiteflow: warning: 'destination': 1 record(s) from position 2 rejected by Buildkite (404)", error);
        Assert.Contains("Delivery of 'destination' completed: 2 delivered, 1 rejected", error);
        Assert.DoesNotContain(SandboxServer.DefaultToken, error);

        var (_, _, quiet) = await SendAsync(Records(1).Replace("00000000000000000000000000000000", "33333333333333333333333333333333", StringComparison.Ordinal), inputName: "quiet.jsonl");
        Assert.DoesNotContain("information:", quiet);
    }

    [Fact]
    public async Task Send_EmptyInput_WarnedOnStderr()
    {
        var (exitCode, output, error) = await SendAsync(string.Empty);

        Assert.True(exitCode == 0, error);
        Assert.Contains("Delivered 0 of 0 records", output);
        Assert.Contains("kiteflow: warning: The input holds no records", error);
    }

    /// <summary>
    /// The two examples chained as a user would: trigger-builds sent with <c>--responses</c>, then that file
    /// sent through annotate-from-responses. Every build gets exactly one annotation, built by the body template.
    /// </summary>
    [Fact]
    public async Task Send_AnnotateFromResponsesExample_AnnotatesEveryBuildTheTriggerExampleCreated()
    {
        var responses = Path.Combine(_directory, "trigger-responses.jsonl");
        var (triggerExit, triggerOutput, triggerError) = await SendExampleAsync("trigger-builds/destination.json", CliRunner.Example("trigger-builds/builds.jsonl"), "trigger", responses);
        Assert.True(triggerExit == 0, triggerOutput + triggerError);
        var builds = Builds();
        Assert.Equal(24, builds.Count);
        Assert.Empty(Annotations());

        var (exitCode, output, error) = await SendExampleAsync("annotate-from-responses/destination.json", responses, "annotate", responses: null);

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("Delivered 24 of 24 records", output);
        var annotations = Annotations();
        Assert.Equal(24, annotations.Count);
        foreach (var build in builds)
        {
            var (pipeline, number) = ((string)build["pipeline"]!, (int)build["number"]!);
            var annotation = Assert.Single(annotations, a => (string)a["pipeline"]! == pipeline && (int)a["build_number"]! == number);
            var metaData = build["meta_data"]!;
            Assert.Equal("release-train", (string)annotation["context"]!);
            Assert.Equal("info", (string)annotation["style"]!);
            Assert.Equal(
                $"Release train **{metaData["ticket"]}**: [build #{number}](https://buildkite.com/acme/{pipeline}/builds/{number}) of `{build["commit"]}` on `{build["branch"]}`, requested by {metaData["requested_by"]}.",
                (string)annotation["body"]!);
        }
    }

    private async Task<(int ExitCode, string Output, string Error)> SendExampleAsync(string destination, string input, string run, string? responses)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var request = new SendRequest(new FileInfo(CliRunner.Example(destination)), input, null, _sandbox.BaseAddress, null, null, Path.Combine(_directory, run + "-ledger.db"), responses, Path.Combine(_directory, run + "-rejected.jsonl"), null);
        var exitCode = await SendCommand.RunAsync(request, output, error, name => name switch
        {
            "BUILDKITE_API_TOKEN" => SandboxServer.DefaultToken,
            "KITEFLOW_HOME" => _directory,
            _ => null,
        }, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private List<JsonNode> Annotations() =>
        JsonNode.Parse(_sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["annotations"]!.AsArray()).Select(a => a!).ToList();

    [Fact]
    public async Task Send_ScopeMissing_SummaryJsonAndSummaryLineSayItFailed()
    {
        const string token = "bkua_cli_readonly_token_summary_abcdefgh";
        _sandbox.AddToken(new SandboxToken(token, ["read_builds"]));

        var (exitCode, output, _) = await SendAsync(Records(2), environment: name => name == "BUILDKITE_API_TOKEN" ? token : null);

        Assert.Equal(ExitCodes.Error, exitCode);
        var summary = Summary();
        Assert.Equal("failed", (string?)summary["status"]);
        Assert.Contains("write_builds", (string?)summary["message"]);
        Assert.Equal(0, (int)summary["requests"]!);
        Assert.Matches("^Failed: .*[Nn]othing was sent", output);
        Assert.DoesNotContain(token, output + summary.ToJsonString());
    }

    [Fact]
    public async Task Send_TokenRefused_SummaryJsonAndSummaryLineSayItFailed()
    {
        var (exitCode, output, error) = await SendAsync(Records(2), environment: name => name == "BUILDKITE_API_TOKEN" ? "bkua_revoked_token_for_the_summary_test" : null);

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Contains("token check failed", error);
        Assert.Equal("failed", (string?)Summary()["status"]);
        Assert.Contains("Failed:", output);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Send_InputCannotBeOpened_SummaryWritten()
    {
        var destination = Write("destination.json", Destination);
        var output = new StringWriter();
        var request = new SendRequest(new FileInfo(destination), Path.Combine(_directory, "missing.jsonl"), null, _sandbox.BaseAddress, null, null, Path.Combine(_directory, "ledger.db"), null, null, Path.Combine(_directory, "summary.json"));

        var exitCode = await SendCommand.RunAsync(request, output, new StringWriter(), name => name == "BUILDKITE_API_TOKEN" ? SandboxServer.DefaultToken : null, CancellationToken.None);

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Equal("failed", (string?)Summary()["status"]);
        Assert.Contains("Failed:", output.ToString());
    }

    [Fact]
    public async Task Send_CsvHeaderUnreadable_InputErrorMidRun_SummaryWritten()
    {
        var (exitCode, output, error) = await SendAsync("org,org.name\nacme,web\n", inputName: "input.csv");

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Contains("header", error);
        var summary = Summary();
        Assert.Equal("failed", (string?)summary["status"]);
        Assert.Contains("header", (string?)summary["message"]);
        Assert.Contains("Failed:", output);
    }

    [Fact]
    public async Task Send_LedgerPathIsAFolder_OneClearLineExitOne_SummaryWritten()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "ledger-folder"));

        var (exitCode, output, error) = await SendAsync(Records(2), ledger: "ledger-folder");

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", error);
        Assert.Equal("failed", (string?)Summary()["status"]);
        Assert.Contains("Failed:", output);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Send_InvalidDestination_ExitTwo_SummaryWritten()
    {
        var (exitCode, output, _) = await SendAsync(Records(1), destinationJson: """{"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","method":"FETCH"}""");

        Assert.Equal(ExitCodes.InvalidSettings, exitCode);
        Assert.Equal("failed", (string?)Summary()["status"]);
        Assert.Contains("Failed:", output);
    }

    [Fact]
    public async Task Send_RunAgainAfterItFinished_SaysAnEarlierRunDeliveredThem_WithTheLedger_AndSendsNothing()
    {
        await SendAsync(Records(4));

        var (exitCode, output, _) = await SendAsync(Records(4));

        Assert.Equal(0, exitCode);
        Assert.Contains("Sent nothing", output);
        Assert.Contains($"ledger {Path.Combine(_directory, "ledger.db")} says 4 of these records were delivered by an earlier run", output);
        Assert.Contains("--restart", output);
        var summary = Summary();
        Assert.Equal((0, 4, 4), ((int)summary["requests"]!, (int)summary["delivered"]!, (int)summary["deliveredEarlier"]!));
        Assert.Equal(4, Builds().Count);
    }

    /// <summary>
    /// Records refused because their pipeline did not exist yet are never sent again by a plain rerun; --restart sends
    /// them again once the pipeline is there, and leaves the delivered ones alone.
    /// </summary>
    [Fact]
    public async Task Send_Restart_SendsAgainWhatWasRejected_NotWhatWasDelivered()
    {
        var records = Records(2) + "\n" + Records(1).Replace("\"web\"", "\"later\"", StringComparison.Ordinal).Replace("00000000000000000000000000000000", "11111111111111111111111111111111", StringComparison.Ordinal);
        var (first, _, _) = await SendAsync(records);
        Assert.Equal(ExitCodes.SomeRecordsNotDelivered, first);
        await CreatePipelineAsync("later");

        var (plain, _, _) = await SendAsync(records);
        Assert.Equal(ExitCodes.SomeRecordsNotDelivered, plain);
        Assert.Equal(2, Builds().Count);

        var (exitCode, output, _) = await SendAsync(records, restart: DeliveryRestart.NotDelivered);

        Assert.True(exitCode == 0, output);
        Assert.Equal(3, Builds().Count);
        var summary = Summary();
        Assert.Equal((1, 3, 2), ((int)summary["requests"]!, (int)summary["delivered"]!, (int)summary["deliveredEarlier"]!));
    }

    [Fact]
    public async Task Send_RestartResendDelivered_SendsEveryRecordAgain_UnderNewDeliveryIds()
    {
        await SendAsync(Records(3));
        var firstIds = Builds().Select(b => (string?)b["meta_data"]!["kiteflow_delivery_id"]).ToHashSet();

        var (exitCode, output, _) = await SendAsync(Records(3), restart: DeliveryRestart.Everything);
        var (again, againOutput, _) = await SendAsync(Records(3));

        Assert.True(exitCode == 0, output);
        var builds = Builds();
        Assert.Equal(6, builds.Count);
        var secondIds = builds.Select(b => (string?)b["meta_data"]!["kiteflow_delivery_id"]).Where(id => !firstIds.Contains(id)).ToList();
        Assert.Equal(3, secondIds.Count);
        Assert.All(secondIds, id => Assert.Matches(@"^kf[0-9a-f]{16}\.1-\d+$", id));

        // The command run once more resumes the new generation: nothing more to send.
        Assert.Equal(0, again);
        Assert.Contains("Sent nothing", againOutput);
        Assert.Equal(6, Builds().Count);
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task Send_BeforeCredentialsAdd_DataFolderIs0700_AndEveryFileIt_Writes0600()
    {
        var home = Path.Combine(_directory, "home", "kiteflow");

        var (exitCode, _, error) = await SendAsync(Records(2) + "\n{bad", ledger: null, home: home);

        Assert.True(exitCode == ExitCodes.SomeRecordsNotDelivered, error);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(home));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(home)!));

        // The ledger's -wal and -shm are gone once it is closed; the ledger tests check them while it is open.
        foreach (var file in Directory.GetFiles(home).Append(Path.Combine(home, "ledger.db")).Concat(new[] { "responses.jsonl", "rejected.jsonl", "summary.json" }.Select(f => Path.Combine(_directory, f))))
        {
            Assert.True(File.Exists(file), $"{file} is missing");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    private JsonNode Summary() => JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "summary.json")))!;

    private async Task CreatePipelineAsync(string slug)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_sandbox.BaseAddress, "/v2/organizations/acme/pipelines"))
        {
            Content = JsonContent.Create(new { name = slug, repository = "git@github.com:acme/later.git", configuration = "steps:\n  - command: true" }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SandboxServer.DefaultToken);
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private Process StartKiteflow(string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiteflow.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["BUILDKITE_API_TOKEN"] = SandboxServer.DefaultToken;
        start.Environment["KITEFLOW_HOME"] = _directory;
        start.Environment["CI"] = "true";
        return Process.Start(start)!;
    }

    private async Task<(int ExitCode, string Output, string Error)> SendAsync(string? records = null, Func<string, string?>? environment = null, Uri? apiBase = null, string destinationJson = Destination, string inputName = "input.jsonl", DeliveryRestart restart = DeliveryRestart.None, string? ledger = "ledger.db", string? home = null, string? input = null, string? format = null, string? rejectedPath = null, string? destination = null)
    {
        input ??= Write(inputName, records!);
        destination ??= Write("destination.json", destinationJson);
        var output = new StringWriter();
        var error = new StringWriter();
        var request = new SendRequest(new FileInfo(destination), input, format, apiBase ?? _sandbox.BaseAddress, null, null, ledger is null ? null : Path.Combine(_directory, ledger), Path.Combine(_directory, "responses.jsonl"), rejectedPath ?? Path.Combine(_directory, "rejected.jsonl"), Path.Combine(_directory, "summary.json"), restart);
        environment ??= name => name switch
        {
            "BUILDKITE_API_TOKEN" => SandboxServer.DefaultToken,
            "KITEFLOW_HOME" => home ?? _directory,
            _ => null,
        };
        var exitCode = await SendCommand.RunAsync(request, output, error, environment, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private List<JsonNode> Builds() =>
        JsonNode.Parse(_sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    private static string Records(int count) => string.Join('\n', Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new
    {
        org = "acme",
        pipeline = new[] { "web", "api", "docs" }[i % 3],
        commit = $"{i:x8}00000000000000000000000000000000",
        branch = "main",
        message = $"row {i}",
    })));

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
