using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Server;
using Kiteflow.Server.Datasets;
using Kiteflow.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Kiteflow.Benchmarks;

/// <summary>
/// The web UI in Debian's Chromium (issue 10), against a server in this process with a 1,000,000-record dataset:
/// <list type="bullet">
/// <item>first load of each page with an empty cache: navigation to the load event, and to the page's content drawn
/// (its "Loading…" gone, the API answered), with the script it loaded (compressed bytes on the wire);</item>
/// <item>the Sample Payload panel: for each keystroke in the editor, the time from the key's input event to the panel
/// drawn for it (the page's own <c>kiteflow:sample-update</c> measure), one record a request and with batching.</item>
/// </list>
/// </summary>
internal static class UiHarness
{
    private const string Password = "bench-password";

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var keystrokes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60;
        var directory = Directory.CreateTempSubdirectory("kiteflow-ui-bench-").FullName;
        try
        {
            var app = KiteflowServer.Build(new ServerOptions
            {
                Urls = "http://127.0.0.1:0",
                DataDirectory = directory,
                AdminPassword = Password,
                Output = TextWriter.Null,
                ConfigureBuilder = builder => builder.Logging.SetMinimumLevel(LogLevel.Warning),
            });
            await app.StartAsync();
            await using (app)
            {
                var baseAddress = new Uri(app.Urls.First());
                var loading = Stopwatch.StartNew();
                await LoadAsync(app, "million", records);
                Console.WriteLine($"loaded {records:N0} records in {loading.Elapsed.TotalSeconds:N1} s; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores");
                using var api = await ApiAsync(baseAddress);
                (await api.PostAsJsonAsync("/api/v1/destinations", new
                {
                    name = "million-builds",
                    dataset = "million",
                    credential = "sandbox",
                    settings = new { url = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds", excludeAttributes = new[] { "org", "pipeline" } },
                })).EnsureSuccessStatusCode();

                using var playwright = await Playwright.CreateAsync();
                await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = "/usr/bin/chromium",
                    Headless = true,
                    Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
                });
                var cookies = await LoginCookiesAsync(browser, baseAddress);
                await FirstLoadsAsync(browser, baseAddress, cookies);
                await SamplePanelAsync(browser, baseAddress, cookies, keystrokes, records);
            }

            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task LoadAsync(WebApplication app, string name, int records)
    {
        var store = app.Services.GetRequiredService<IKiteflowStore>();
        var appender = app.Services.GetRequiredService<DatasetAppender>();
        var dataset = await store.Datasets.CreateAsync(new NewDataset(name, DatasetSource.Upload, new IngestKeySettings("x", "x", false), DateTimeOffset.UtcNow), CancellationToken.None);
        const int batch = 10_000;
        for (var first = 0; first < records; first += batch)
        {
            var body = RecordGenerator.JsonLines(Math.Min(batch, records - first), first);
            await appender.IngestAsync(dataset, body, body.Length, Kiteflow.Core.Records.InputFormat.JsonLines, null, CancellationToken.None);
        }
    }

    private static async Task<HttpClient> ApiAsync(Uri baseAddress)
    {
        var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = baseAddress };
        var session = await (await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = Password })).Content.ReadFromJsonAsync<JsonNode>();
        client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)session!["antiforgeryToken"]!);
        return client;
    }

    private static async Task<IReadOnlyList<BrowserContextCookiesResult>> LoginCookiesAsync(IBrowser browser, Uri baseAddress)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.WaitForURLAsync("**/datasets");
        return await context.CookiesAsync();
    }

    /// <summary>Each page, three times, each in a new context (an empty cache), logged in by its cookie.</summary>
    private static async Task FirstLoadsAsync(IBrowser browser, Uri baseAddress, IReadOnlyList<BrowserContextCookiesResult> cookies)
    {
        string[] pages = ["/login", "/datasets", "/datasets/million", "/destinations", "/destinations/new?dataset=million", "/destinations/million-builds", "/credentials", "/audit", "/api-keys"];
        Console.WriteLine();
        Console.WriteLine("| page (empty cache) | HTML received, ms | load event, ms | content drawn, ms | script, compressed bytes | every file, compressed bytes |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var path in pages)
        {
            var loads = new List<double>();
            var html = new List<double>();
            var drawn = new List<double>();
            double script = 0, all = 0;
            for (var i = 0; i < 7; i++)
            {
                await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
                if (path != "/login")
                {
                    await context.AddCookiesAsync(cookies.Select(c => new Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path }));
                }

                var page = await context.NewPageAsync();
                await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
                await page.WaitForFunctionAsync("() => performance.getEntriesByName('kiteflow:page-drawn').length > 0");
                var timing = await page.EvaluateAsync<JsonElement>("""
                    () => {
                      const nav = performance.getEntriesByType('navigation')[0];
                      const resources = performance.getEntriesByType('resource');
                      const script = resources.filter(r => r.name.endsWith('.js')).reduce((s, r) => s + r.encodedBodySize, 0);
                      const all = resources.reduce((s, r) => s + r.encodedBodySize, 0) + nav.encodedBodySize;
                      return { load: nav.loadEventEnd, drawn: performance.getEntriesByName('kiteflow:page-drawn')[0].startTime, html: nav.responseEnd, script, all };
                    }
                    """);
                loads.Add(timing.GetProperty("load").GetDouble());
                html.Add(timing.GetProperty("html").GetDouble());
                drawn.Add(timing.GetProperty("drawn").GetDouble());
                script = timing.GetProperty("script").GetDouble();
                all = timing.GetProperty("all").GetDouble();
            }

            Console.WriteLine($"| `{path}` | {Median(html):N0} | {Median(loads):N0} | {Median(drawn):N0} | {script:N0} | {all:N0} |");
        }
    }

    /// <summary>Types into the editor, one key at a time, and reads how long each key took to reach the panel.</summary>
    private static async Task SamplePanelAsync(IBrowser browser, Uri baseAddress, IReadOnlyList<BrowserContextCookiesResult> cookies, int keystrokes, int records)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        await context.AddCookiesAsync(cookies.Select(c => new Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path }));
        var page = await context.NewPageAsync();
        await page.GotoAsync("/destinations/new?dataset=million");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await page.GetByRole(AriaRole.Combobox, new() { Name = "URL" }).FillAsync("https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds");
        await page.Locator("#sample-panel details.sample").First.WaitForAsync();

        Console.WriteLine();
        Console.WriteLine($"Sample Payload panel on a {records:N0}-record dataset: from a key's input event to the panel drawn for it, {keystrokes} keys each");
        Console.WriteLine();
        Console.WriteLine("| settings | p50 ms | p95 ms | max ms |");
        Console.WriteLine("|---|---|---|---|");
        var single = await TypeAsync(page, keystrokes);
        Console.WriteLine($"| one record a request (5 requests) | {Percentile(single, 50):N0} | {Percentile(single, 95):N0} | {single.Max():N0} |");

        await page.GetByLabel("Would you like to batch your records together?").CheckAsync();
        await page.GetByLabel("Grouping Algorithm").SelectOptionAsync("property");
        await page.GetByLabel("Property Name").FillAsync("builds");
        await page.Locator("#sample-panel pre", new() { HasTextString = "\"builds\": [" }).First.WaitForAsync(new() { State = WaitForSelectorState.Attached });
        var batched = await TypeAsync(page, keystrokes);
        Console.WriteLine($"| batches of 100 under `builds` (5 requests, 500 records) | {Percentile(batched, 50):N0} | {Percentile(batched, 95):N0} | {batched.Max():N0} |");
        Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    }

    /// <summary>Keys into Request Headers one at a time, each after the panel drew the key before, so each key is measured alone.</summary>
    private static async Task<List<double>> TypeAsync(IPage page, int keystrokes)
    {
        var headers = page.GetByLabel("Request Headers");
        await headers.FillAsync("X-Bench:v");
        await WaitForUpdateAsync(page, await UpdatesAsync(page));
        var durations = new List<double>();
        for (var i = 0; i < keystrokes; i++)
        {
            var before = await UpdatesAsync(page);
            await page.EvaluateAsync("() => performance.clearMeasures('kiteflow:sample-update')");
            await headers.PressAsync(((char)('a' + (i % 26))).ToString());
            await WaitForUpdateAsync(page, before);
            durations.Add(await page.EvaluateAsync<double>("() => performance.getEntriesByName('kiteflow:sample-update').at(-1).duration"));
        }

        return durations;
    }

    private static Task<int> UpdatesAsync(IPage page) => page.EvaluateAsync<int>("() => Number(document.getElementById('sample-panel').dataset.updates || 0)");

    private static Task WaitForUpdateAsync(IPage page, int before) =>
        page.WaitForFunctionAsync($"() => Number(document.getElementById('sample-panel').dataset.updates || 0) > {before} && !document.getElementById('sample-panel').classList.contains('stale')");

    private static double Median(List<double> values) => Percentile(values, 50);

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
