using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Microsoft.Playwright;

namespace Kiteflow.Ui.Tests;

/// <summary>The caution before a real test send, and records not delivered fixed and retried, in Chromium.</summary>
[Collection(UiCollection.Name)]
public sealed class DestinationDeliveryTests(UiFixture ui)
{
    private const string BuildsUrl = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds";

    // The token of a second sandbox: a credential whose kind is not sandbox, as a real Buildkite token would be.
    private const string SecondToken = "bkua_ui_second_sandbox_0123456789abcdef0123";

    [Fact]
    public async Task SendTestData_CredentialThatIsNotTheSandbox_ShowsTheCaution_SendsOnlyOnceConfirmed()
    {
        await using var second = await SandboxServer.StartAsync(new SandboxOptions { Tokens = { new SandboxToken(SecondToken, ["read_builds", "write_builds"]) } });
        await ui.CreateDatasetAsync("caution-builds", """{"org":"acme","pipeline":"web","commit":"HEAD","branch":"main","message":"Careful"}""");
        await using var session = await ui.NewPageAsync();
        var page = session.Page;
        await page.GotoAsync("/destinations/new?dataset=caution-builds");

        // A credential created inline: the token is taken once and never shown again; Check shows scopes and user.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create a credential" }).ClickAsync();
        var form = page.GetByRole(AriaRole.Form, new() { Name = "New credential" });
        await form.GetByLabel("Credential name").FillAsync("elsewhere");
        await form.GetByLabel("API token").FillAsync(SecondToken);
        await form.GetByLabel("API base").FillAsync(second.BaseAddress.ToString());
        await form.GetByRole(AriaRole.Button, new() { Name = "Create credential" }).ClickAsync();
        await Expect(page.GetByLabel("Credential", new() { Exact = true })).ToHaveValueAsync("elsewhere");
        await Expect(page.Locator("input[name=token]")).ToHaveValueAsync(string.Empty);
        await page.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        await Expect(page.GetByText("The token works.")).ToBeVisibleAsync();
        await Expect(page.Locator(".kv")).ToContainTextAsync("read_builds, write_builds");
        Assert.DoesNotContain(SecondToken, await page.ContentAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByRole(AriaRole.Combobox, new() { Name = "URL" }).FillAsync(BuildsUrl);
        var first = page.Locator("#sample-panel details.sample").First;
        await Expect(first).ToContainTextAsync("/pipelines/web/builds");
        await page.GetByRole(AriaRole.Button, new() { Name = "Test", Exact = true }).ClickAsync();
        await Expect(page.Locator("#sample-panel .caution")).ToContainTextAsync("will create real resources in your Buildkite organization");
        await first.Locator("summary").ClickAsync();

        // Cancelled: nothing reaches the other API.
        await first.GetByRole(AriaRole.Button, new() { Name = "Send Test Data" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Send a real request?" });
        await Expect(dialog).ToContainTextAsync("Review the sample payload carefully");
        await Expect(dialog).ToContainTextAsync("elsewhere");
        await session.ScreenshotAsync("test-caution");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(first.Locator(".test-result")).ToContainTextAsync("Not sent.");
        Assert.Empty(await UiFixture.BuildsAsync(second));
        // Only the credential's Check reached the other API (GET /v2/access-token), nothing that writes.
        Assert.All(await SandboxRequestsAsync(second), r => Assert.Equal("GET /v2/access-token", $"{r!["method"]} {r["path"]}"));

        // Confirmed: sent once, the real answer shown.
        await first.GetByRole(AriaRole.Button, new() { Name = "Send Test Data" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send Test Data" }).ClickAsync();
        await Expect(first.Locator(".status-code")).ToHaveTextAsync("201");
        Assert.Single(await UiFixture.BuildsAsync(second));
        await Expect(first.Locator(".test-result")).Not.ToContainTextAsync(SecondToken);
    }

    [Fact]
    public async Task RejectedRecords_FixTheSettingsThenRetryAll_AreDelivered()
    {
        // Two records lack the pipeline their URL needs.
        await ui.CreateDatasetAsync("retry-builds", string.Join('\n',
            """{"org":"acme","pipeline":"web","commit":"HEAD","branch":"main","message":"Retry 0"}""",
            """{"org":"acme","commit":"HEAD","branch":"main","message":"Retry 1"}""",
            """{"org":"acme","pipeline":"api","commit":"HEAD","branch":"main","message":"Retry 2"}""",
            """{"org":"acme","commit":"HEAD","branch":"main","message":"Retry 3"}"""));
        using (var api = await ui.ApiAsync())
        {
            var created = await api.PostAsJsonAsync("/api/v1/destinations", new { name = "retry-builds", dataset = "retry-builds", credential = "sandbox", settings = new { url = BuildsUrl, excludeAttributes = new[] { "org", "pipeline" } } });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        await using var session = await ui.NewPageAsync();
        var page = session.Page;
        await page.GotoAsync("/destinations/retry-builds");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Activate" }).ClickAsync();
        await Expect(page.Locator("[data-count=delivered] dd")).ToHaveTextAsync("2");
        await Expect(page.Locator("[data-count=rejected] dd")).ToHaveTextAsync("2");

        // Each record not delivered: its stage, the reason, the original record.
        var rows = page.Locator("table.rejected tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToContainTextAsync("template");
        await Expect(rows.First).ToContainTextAsync("{pipeline}");
        await Expect(rows.First).ToContainTextAsync("Retry 1");
        await session.ScreenshotAsync("destination-rejected");

        // Edit asks to pause first; fix the URL with a default; Done.
        await page.GetByRole(AriaRole.Button, new() { Name = "Actions for destination retry-builds" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Edit settings" }).ClickAsync();
        var pauseFirst = page.GetByRole(AriaRole.Dialog, new() { Name = "Pause to edit?" });
        await pauseFirst.GetByRole(AriaRole.Button, new() { Name = "Pause and edit" }).ClickAsync();
        await page.WaitForURLAsync("**/destinations/retry-builds/edit");
        var url = page.GetByRole(AriaRole.Combobox, new() { Name = "URL" });
        await Expect(url).ToHaveValueAsync(BuildsUrl);
        await url.FillAsync(BuildsUrl.Replace("{pipeline}", "{pipeline=docs}", StringComparison.Ordinal));
        await Expect(page.Locator("#sample-panel details.sample").First).ToContainTextAsync("/pipelines/web/builds");
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await page.WaitForURLAsync("**/destinations/retry-builds?saved=1");
        await Expect(page.Locator(".badge")).ToHaveTextAsync("paused");

        // Retry all, resume: delivered.
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry all (2)" }).ClickAsync();
        await Expect(page.Locator("#toasts")).ToContainTextAsync("2 record(s) will be sent again");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume", Exact = true }).ClickAsync();
        await Expect(page.Locator("[data-count=delivered] dd")).ToHaveTextAsync("4");
        await Expect(page.Locator("[data-count=rejected] dd")).ToHaveTextAsync("0");
        await Expect(page.Locator("table.rejected")).ToHaveCountAsync(0);

        var builds = await UiFixture.BuildsAsync(ui.Sandbox);
        Assert.Single(builds, b => (string?)b!["message"] == "Retry 0" && (string?)b["pipeline"] == "web");
        Assert.Single(builds, b => (string?)b!["message"] == "Retry 1" && (string?)b["pipeline"] == "docs");
        Assert.Single(builds, b => (string?)b!["message"] == "Retry 2" && (string?)b["pipeline"] == "api");
        Assert.Single(builds, b => (string?)b!["message"] == "Retry 3" && (string?)b["pipeline"] == "docs");

        // The destination's audit trail shows the update.
        await Expect(page.Locator("table.audit")).ToContainTextAsync("destination.update");
        using var pause = await ui.ApiAsync();
        (await pause.PostAsync("/api/v1/destinations/retry-builds/pause", JsonContent.Create(new { }))).EnsureSuccessStatusCode();
    }

    private static async Task<JsonArray> SandboxRequestsAsync(SandboxServer sandbox)
    {
        using var http = new HttpClient();
        var log = JsonNode.Parse(await http.GetStringAsync(new Uri(sandbox.BaseAddress, "/_sandbox/requests")))!;
        return log["requests"]!.AsArray();
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
