using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Kiteflow.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Kiteflow.Ui.Tests;

/// <summary>
/// A real Kiteflow server on a free loopback port (with its embedded sandbox, real SQLite files in a temporary folder)
/// and Debian's Chromium driven by Playwright, launched with the flags DEVELOPERS.md gives. Shared by the tests of
/// the <see cref="UiCollection"/>, which run one after another; each test makes its own datasets and destinations.
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    public const string AdminPassword = "ui-test-admin-password";

    /// <summary>How long any one wait for a condition in the browser may take before the test fails.</summary>
    public const float TimeoutMs = 30_000;

    public static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "kiteflow-ui-test-" + Guid.NewGuid().ToString("N"));

    public WebApplication App { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The sandbox the server hosts (the <c>sandbox</c> credential points at it).</summary>
    public SandboxServer Sandbox => App.Services.GetRequiredService<EmbeddedSandbox>().Server!;

    /// <summary>Where the tests save screenshots: <c>KITEFLOW_SCREENSHOTS</c>, else <c>screenshots/</c> beside the tests.</summary>
    public static string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("KITEFLOW_SCREENSHOTS") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        App = await Kiteflow.Server.KiteflowServer.StartAsync(new Kiteflow.Server.ServerOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = _dataDirectory,
            AdminPassword = AdminPassword,
            Output = TextWriter.Null,
            Environment = _ => null,
        }, CancellationToken.None);
        BaseAddress = new Uri(App.Urls.First());
        Assertions.SetDefaultExpectTimeout(TimeoutMs);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
            Timeout = TimeoutMs,
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>A new browser context (its own cookies) at a window size, and a page in it that records console errors.</summary>
    public async Task<UiPage> NewPageAsync(int width = 1280, int height = 800, bool login = true)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = false,
        });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        var ui = new UiPage(context, page);
        if (login)
        {
            await ui.LoginAsync();
        }

        return ui;
    }

    /// <summary>A client logged in to the API (cookie + antiforgery token), for arranging what a test needs.</summary>
    public async Task<HttpClient> ApiAsync()
    {
        var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer() }) { BaseAddress = BaseAddress };
        var response = await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = AdminPassword });
        response.EnsureSuccessStatusCode();
        var token = (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["antiforgeryToken"]!;
        client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", token);
        return client;
    }

    /// <summary>Creates a dataset and uploads JSON Lines into it through the API.</summary>
    public async Task CreateDatasetAsync(string name, string jsonLines)
    {
        using var api = await ApiAsync();
        (await api.PostAsJsonAsync("/api/v1/datasets", new { name })).EnsureSuccessStatusCode();
        using var content = new StringContent(jsonLines, System.Text.Encoding.UTF8, "application/x-ndjson");
        (await api.PostAsync($"/api/v1/datasets/{name}/records?format=jsonl", content)).EnsureSuccessStatusCode();
    }

    /// <summary>The builds a sandbox holds (oldest first).</summary>
    public static async Task<JsonArray> BuildsAsync(SandboxServer sandbox)
    {
        using var http = new HttpClient();
        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(sandbox.BaseAddress, "/_sandbox/state?organization=acme")))!;
        var builds = new JsonArray();
        foreach (var org in state["organizations"]!.AsArray())
        {
            foreach (var build in org!["builds"]!.AsArray())
            {
                builds.Add(build!.DeepClone());
            }
        }

        return builds;
    }
}

/// <summary>The browser tests share one server and one Chromium, and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiFixture>
{
    public const string Name = "ui";
}

/// <summary>A page in its own browser context, with the console errors and failed requests it met.</summary>
public sealed class UiPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _problems = Watch(page);

    public IPage Page { get; } = page;

    public IBrowserContext Context { get; } = context;

    /// <summary>Console errors (a Content-Security-Policy violation is one), uncaught exceptions.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    public async Task LoginAsync()
    {
        await Page.GotoAsync("/login");
        await Page.GetByLabel("User name").FillAsync("admin");
        await Page.GetByLabel("Password").FillAsync(UiFixture.AdminPassword);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Page.WaitForURLAsync("**/datasets");
    }

    /// <summary>Saves a screenshot of the whole page as NAME-WIDTH.png.</summary>
    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(UiFixture.ScreenshotDirectory);
        var width = Page.ViewportSize?.Width ?? 0;
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiFixture.ScreenshotDirectory, $"{name}-{width}.png"), FullPage = true, Animations = ScreenshotAnimations.Disabled, Caret = ScreenshotCaret.Initial });
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();

    private static ConcurrentQueue<string> Watch(IPage page)
    {
        var problems = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Enqueue($"console: {message.Text} (at {message.Location})");
            }
        };
        page.PageError += (_, error) => problems.Enqueue($"page error: {error}");
        return problems;
    }
}
