using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Kiteflow.Ui.Tests;

/// <summary>
/// The seed page, working, in Chromium: upload → + → Send to destination → credential → the request shaped field by
/// field while the Sample Payload panel follows → Test with an edited body → Done → Activate → delivered, one build
/// per record in the sandbox.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class DestinationWorkflowTests(UiFixture ui)
{
    private const int Records = 12;

    [Fact]
    public async Task SeedWorkflow_UploadShapeTestDoneActivate_DeliversOneBuildPerRecord()
    {
        var file = Path.Combine(Path.GetTempPath(), $"seed-builds-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, Records).Select(i =>
            $$$"""{"org":"acme","pipeline":"web","commit":"{{{i:x40}}}","branch":"main","message":"Seed build {{{i}}}","note":"internal","team":"platform"}""")
            .Append("""{"org":"acme", "this line": is broken}"""));
        await using var session = await ui.NewPageAsync();
        var page = session.Page;

        // Upload a JSON Lines file into a new dataset.
        await page.GetByLabel("Dataset", new() { Exact = true }).FillAsync("seed-builds");
        await page.GetByLabel("File", new() { Exact = true }).SetInputFilesAsync(file);
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(page.Locator("form.upload [role=status]")).ToContainTextAsync($"Appended {Records} records to seed-builds");
        await Expect(page.Locator(".ingest-key")).ToContainTextAsync("kfi_");
        await Expect(page.Locator("table.rejections tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("table.rejections tbody tr td").First).ToHaveTextAsync($"{Records + 1}");

        // + → Send to destination.
        await page.GetByRole(AriaRole.Button, new() { Name = "Actions for dataset seed-builds" }).First.ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Send to destination" }).ClickAsync();
        await page.WaitForURLAsync("**/destinations/new?dataset=seed-builds");

        // Connector Buildkite, the sandbox credential, Next.
        await Expect(page.GetByLabel("Buildkite")).ToBeCheckedAsync();
        await page.GetByLabel("Credential", new() { Exact = true }).SelectOptionAsync("sandbox");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        await Expect(page.GetByText("The token works.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();

        // Method POST with its hint; JSON preselected.
        var method = page.GetByLabel("Method");
        await Expect(method).ToBeFocusedAsync();
        await method.SelectOptionAsync("POST");
        await Expect(page.GetByText("POST: for triggering new builds")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Content Format")).ToHaveValueAsync("json");

        // The URL, with two macros picked from the "{" list: one by mouse, one by keyboard.
        var url = page.GetByRole(AriaRole.Combobox, new() { Name = "URL" });
        await url.ClickAsync();
        await url.PressSequentiallyAsync("https://api.buildkite.com/v2/organizations/{");
        var macros = page.GetByRole(AriaRole.Listbox, new() { Name = "Attributes of the dataset" });
        await Expect(macros).ToBeVisibleAsync();
        await macros.GetByRole(AriaRole.Option, new() { Name = "org" }).First.ClickAsync();
        await url.PressSequentiallyAsync("/pipelines/{pip");
        await Expect(macros.GetByRole(AriaRole.Option).First).ToContainTextAsync("pipeline");
        await url.PressAsync("Enter");
        await url.PressSequentiallyAsync("/builds");
        await Expect(url).ToHaveValueAsync("https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds");
        await Expect(page.Locator(".matched")).ToContainTextAsync("builds.create");
        await Expect(page.Locator(".matched")).ToContainTextAsync("write_builds");

        // The first sample, expanded: the final URL, the token masked.
        var panel = page.Locator("#sample-panel");
        var first = panel.Locator("details.sample").First;
        await Expect(first).ToContainTextAsync("/v2/organizations/acme/pipelines/web/builds");
        await first.Locator("summary").ClickAsync();
        await Expect(first).ToContainTextAsync("Bearer ••••");
        await Expect(first.Locator("pre")).ToContainTextAsync("\"note\": \"internal\"");

        // Exclude two attributes, then remove one chip.
        var exclude = page.GetByLabel("Exclude Attributes");
        await exclude.SelectOptionAsync("note");
        await exclude.SelectOptionAsync("team");
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Excluded attributes" }).GetByRole(AriaRole.Listitem)).ToHaveCountAsync(2);
        await Expect(first.Locator("pre")).Not.ToContainTextAsync("\"team\"");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove team" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Excluded attributes" }).GetByRole(AriaRole.Listitem)).ToHaveTextAsync(["note✕"]);
        await Expect(first.Locator("pre")).ToContainTextAsync("\"team\": \"platform\"");
        await Expect(first.Locator("pre")).Not.ToContainTextAsync("\"note\"");

        // Batching: property "builds" with other props; the panel shows the wrapper after each change.
        await page.GetByLabel("Would you like to batch your records together?").CheckAsync();
        await Expect(first.Locator("pre")).ToContainTextAsync("\"commit\"");
        await Expect(panel.Locator("details.sample")).ToHaveCountAsync(1);
        await page.GetByLabel("Batch Size").FillAsync("5");
        await Expect(panel.Locator("details.sample")).ToHaveCountAsync(3);
        await page.GetByLabel("Grouping Algorithm").SelectOptionAsync("property");
        await page.GetByLabel("Property Name").FillAsync("builds");
        await Expect(first.Locator("pre")).ToContainTextAsync("\"builds\": [");
        var otherProps = page.GetByLabel("Other Props");
        await otherProps.PressSequentiallyAsync("{\"source\": \"kiteflow\", \"run\": 1");
        await Expect(page.GetByText("Other Props: not valid JSON")).ToBeVisibleAsync();
        await otherProps.PressSequentiallyAsync("}");
        await Expect(page.GetByText("Other Props: not valid JSON")).ToBeHiddenAsync();
        await Expect(first.Locator("pre")).ToContainTextAsync("\"source\": \"kiteflow\"");

        // Never stale: many edits in a row; the panel ends on the last one.
        await otherProps.FillAsync("{\"source\": \"kiteflow\", \"run\": 2}");
        await otherProps.PressSequentiallyAsync(" ");
        await otherProps.FillAsync("{\"source\": \"kiteflow\", \"run\": 3}");
        await Expect(first.Locator("pre")).ToContainTextAsync("\"run\": 3");
        await Expect(panel).ToContainTextAsync("takes one object per call");

        // Buildkite's create-build takes one build per call (the warning says so): batching off again.
        await page.GetByLabel("Would you like to batch your records together?").UncheckAsync();
        await Expect(panel.Locator("details.sample")).ToHaveCountAsync(5);
        await Expect(first.Locator("pre")).Not.ToContainTextAsync("\"builds\"");

        // Test: edit the first sample's body in place, Send Test Data, the sandbox's 201.
        await page.GetByRole(AriaRole.Button, new() { Name = "Test", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Test", Exact = true })).ToHaveAttributeAsync("aria-pressed", "true");
        var body = first.GetByLabel("Body of sample 1");
        var planned = await body.InputValueAsync();
        Assert.Contains("\"Seed build 0\"", planned);
        await body.FillAsync(planned.Replace("\"Seed build 0\"", "\"Seed build 0, edited in the test\"", StringComparison.Ordinal));
        await first.GetByRole(AriaRole.Button, new() { Name = "Send Test Data" }).ClickAsync();
        await Expect(first.Locator(".status-code")).ToHaveTextAsync("201");
        await Expect(first.Locator(".response-body")).ToContainTextAsync("Seed build 0, edited in the test");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToHaveCountAsync(0);

        // Done saves a draft; Activate from the destination's menu, all records.
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await page.WaitForURLAsync("**/destinations/seed-builds-to-buildkite?saved=1");
        await Expect(page.Locator(".badge")).ToHaveTextAsync("draft");
        await page.GetByRole(AriaRole.Button, new() { Name = "Actions for destination seed-builds-to-buildkite" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Activate…" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog.GetByLabel("All records — from the dataset's first record")).ToBeCheckedAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Activate" }).ClickAsync();

        // The page counts up to every record; the chart is drawn.
        await Expect(page.Locator("[data-count=delivered] dd")).ToHaveTextAsync($"{Records}");
        await Expect(page.Locator(".badge")).ToHaveTextAsync("active");
        await Expect(page.Locator("[data-count=lag] dd")).ToHaveTextAsync("0");
        await Expect(page.Locator(".chart canvas")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-count=rejected] dd")).ToHaveTextAsync("0");
        await session.ScreenshotAsync("destination-delivered");

        // One build per record (and the one test build, with its edited message).
        var messages = (await UiFixture.BuildsAsync(ui.Sandbox)).Select(b => (string?)b!["message"]).ToList();
        for (var i = 0; i < Records; i++)
        {
            Assert.Equal(1, messages.Count(m => m == $"Seed build {i}"));
        }

        Assert.Equal(1, messages.Count(m => m == "Seed build 0, edited in the test"));
        Assert.DoesNotContain(session.Problems, p => !p.Contains("Failed to load resource", StringComparison.Ordinal));
        File.Delete(file);

        using var api = await ui.ApiAsync();
        (await api.PostAsync("/api/v1/destinations/seed-builds-to-buildkite/pause", JsonContent.Create(new { }))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Done_BadUrlBadOtherPropsAndScriptSyntaxError_EachShownAtItsField_NothingSaved()
    {
        await ui.CreateDatasetAsync("invalid-builds", """{"org":"acme","pipeline":"web","commit":"HEAD","branch":"main","message":"one"}""");
        await using var session = await ui.NewPageAsync();
        var page = session.Page;
        await page.GotoAsync("/destinations/new?dataset=invalid-builds");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByLabel("Destination name").FillAsync("invalid-builds-dest");
        await page.GetByRole(AriaRole.Combobox, new() { Name = "URL" }).FillAsync("https://example.com/v2/organizations/{org}/pipelines/{pipeline}/builds");
        await page.GetByLabel("Would you like to batch your records together?").CheckAsync();
        await page.GetByLabel("Grouping Algorithm").SelectOptionAsync("property");
        await page.GetByLabel("Property Name").FillAsync("builds");
        await page.GetByLabel("Other Props").FillAsync("{\"source\": kiteflow}");

        // The JSON problem shows as you type; Done lists every problem, each next to its field.
        await Expect(page.Locator("[data-field='settings.batching.otherProps'] .field-error")).ToContainTextAsync("Other Props: not valid JSON");
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        var summary = page.Locator(".error-summary");
        await Expect(summary).ToContainTextAsync("nothing was saved");
        await Expect(summary).ToBeFocusedAsync();
        await Expect(page.Locator("[data-field='settings.url'] > .field-error")).ToContainTextAsync("URL:");
        await Expect(page.Locator("[data-field='settings.url'] > .field-error")).ToContainTextAsync("example.com");
        await Expect(page.GetByRole(AriaRole.Combobox, new() { Name = "URL" })).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("[data-field='settings.batching.otherProps'] .field-error")).ToContainTextAsync("not valid JSON");
        await Expect(page.GetByLabel("Other Props")).ToHaveAttributeAsync("aria-invalid", "true");
        await session.ScreenshotAsync("editor-errors");

        // A script with a syntax error on line 3: shown at the Code field and at its line in the editor.
        await page.GetByLabel("Grouping Algorithm").SelectOptionAsync("code");
        var code = page.Locator("[data-field='settings.batching.code'] .cm-content");
        await Expect(code).ToBeVisibleAsync();

        // The code editor's generated styles were admitted by the page's CSP (by its nonce): no violation, and its base
        // theme applies. (Checked before the text is inserted below: Chromium's own editing of a contenteditable may try
        // a style attribute, which the policy blocks, harmlessly, as CodeMirror redraws the line.)
        var problems = session.Problems.Where(p => !p.Contains("Failed to load resource", StringComparison.Ordinal)).ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.Equal("flex", await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector(\"[data-field='settings.batching.code'] .cm-editor\")).display"));
        await code.ClickAsync();
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.InsertTextAsync("function batch(records, context) {\n  const body = { builds: records };\n  return body +;\n}\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(page.Locator("[data-field='settings.batching.code'] > .field-error")).ToContainTextAsync("line 3");
        await Expect(page.Locator("[data-field='settings.batching.code'] .cm-lint-marker-error")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-field='settings.url'] > .field-error")).ToContainTextAsync("example.com");
        await Expect(page.Locator("[data-field='settings.batching.code'] .cm-line:has(.cm-lintRange-error)")).ToHaveTextAsync("  return body +;");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/destinations/new"));

        // Nothing was saved.
        using var api = await ui.ApiAsync();
        var destinations = await api.GetFromJsonAsync<JsonArray>("/api/v1/destinations");
        Assert.DoesNotContain(destinations!, d => (string?)d!["name"] == "invalid-builds-dest");
        var audit = await api.GetFromJsonAsync<JsonNode>("/api/v1/audit?resourceType=destination&resourceName=invalid-builds-dest");
        Assert.Empty(audit!["items"]!.AsArray());
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static IPageAssertions Expect(IPage page) => Assertions.Expect(page);
}
