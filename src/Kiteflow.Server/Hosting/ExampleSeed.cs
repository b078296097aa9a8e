using Kiteflow.Core.Records;
using Kiteflow.Server.Audit;
using Kiteflow.Server.Datasets;
using Kiteflow.Server.Delivery;
using Kiteflow.Server.Destinations;
using Kiteflow.Server.Observability;
using Kiteflow.Server.Security;
using Kiteflow.Storage;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// The seeded example (<c>kiteflow serve --example</c>, <see cref="ServerOptions.SeedExample"/>): on a store with no
/// dataset yet, the records of <c>examples/trigger-builds</c> as the dataset <c>release-train</c>, and two drafts on the
/// <c>sandbox</c> credential that chain: <c>trigger-builds</c> makes a build per record and keeps every response in
/// <c>trigger-builds-responses</c>, which <c>annotate-from-responses</c> reads to annotate each build. A new user activates
/// the first, then the second, and watches it work offline. The files are the repository's own examples, embedded.
/// </summary>
internal sealed class ExampleSeed(IKiteflowStore store, DatasetAppender appender, DeliveryServices delivery, IAuditLog audit, ServerOptions options, ILogger<ExampleSeed> logger)
{
    public const string DatasetName = "release-train";
    public const string TriggerName = "trigger-builds";
    public const string AnnotateName = "annotate-from-responses";

    /// <summary>Adds the example, or says in the log why it did not.</summary>
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        if ((await store.Datasets.ListAsync(cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            Log.ExampleSkipped(logger, "the store has datasets already; the example is only added to a store without any");
            return;
        }

        var credential = await store.Credentials.GetAsync(EmbeddedSandbox.CredentialName, cancellationToken).ConfigureAwait(false);
        if (credential is not { Kind: CredentialKind.Sandbox })
        {
            Log.ExampleSkipped(logger, $"it runs against the embedded sandbox, and there is no '{EmbeddedSandbox.CredentialName}' credential pointing at one");
            return;
        }

        var trigger = Resource("trigger-builds.json");
        var annotate = Resource("annotate-from-responses.json");
        var apiBase = new Uri(credential.ApiBase);
        foreach (var (name, settings) in (ReadOnlySpan<(string, string)>)[(TriggerName, trigger), (AnnotateName, annotate)])
        {
            var (_, problems) = SettingsCheck.Check(settings, name, apiBase, string.Empty);
            if (problems.Count > 0)
            {
                Log.ExampleSkipped(logger, $"the example's settings of '{name}' are not valid ({string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(' ', p.Value)}"))})");
                return;
            }
        }

        var now = options.TimeProvider.GetUtcNow();

        // The ingest key is never shown: a user who wants to ingest into the example makes a new one (POST …/ingest-key).
        var key = Secrets.NewIngestKey();
        var dataset = await store.Datasets.CreateAsync(new NewDataset(DatasetName, DatasetSource.Upload, new IngestKeySettings(Secrets.Hash(key), Secrets.ShownPrefix(key), RequireSignature: false), now), cancellationToken).ConfigureAwait(false);
        await using (var records = Open("release-train.jsonl"))
        {
            await appender.UploadAsync(dataset, records, InputFormat.JsonLines, cancellationToken).ConfigureAwait(false);
        }

        var responses = await delivery.ResponseDatasetAsync(TriggerName, cancellationToken).ConfigureAwait(false);
        await store.Destinations.CreateAsync(new NewDestination(TriggerName, dataset.Id, credential.Id, trigger, now), cancellationToken).ConfigureAwait(false);
        await store.Destinations.CreateAsync(new NewDestination(AnnotateName, responses.Id, credential.Id, annotate, now), cancellationToken).ConfigureAwait(false);

        await audit.RecordAsync(Actors.System, "dataset.create", "dataset", DatasetName, new() { ["source"] = "upload", ["example"] = true }, cancellationToken).ConfigureAwait(false);
        foreach (var (name, datasetName, settings) in ((string, string, string)[])[(TriggerName, DatasetName, trigger), (AnnotateName, responses.Name, annotate)])
        {
            await audit.RecordAsync(Actors.System, "destination.create", "destination", name, new()
            {
                ["dataset"] = datasetName,
                ["credential"] = credential.Name,
                ["example"] = true,
                ["changes"] = SettingsDiff.Between(null, settings),
            }, cancellationToken).ConfigureAwait(false);
        }

        var seeded = await store.Datasets.GetByIdAsync(dataset.Id, cancellationToken).ConfigureAwait(false);
        Log.ExampleSeeded(logger, DatasetName, seeded?.RecordCount ?? 0, TriggerName, AnnotateName);
    }

    private static string Resource(string name)
    {
        using var reader = new StreamReader(Open(name));
        return reader.ReadToEnd();
    }

    private static Stream Open(string name) =>
        typeof(ExampleSeed).Assembly.GetManifestResourceStream("Kiteflow.Server.Examples." + name)
        ?? throw new InvalidOperationException($"The example's file {name} is not embedded in Kiteflow.Server.");
}
