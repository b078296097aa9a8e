using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Kiteflow.Core.Json;
using Kiteflow.Core.Planning;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;

namespace Kiteflow.Cli.Commands;

/// <summary>
/// <c>kiteflow preview --watch</c>: the preview, shown again whenever the destination file changes, so settings can be
/// edited in any editor while the samples follow. A settings problem is shown in place of the samples and the watch
/// goes on; Ctrl+C (or SIGTERM) ends it with exit code 0.
/// </summary>
internal static class PreviewWatch
{
    /// <summary>
    /// How long the file must be quiet before the preview is shown again: an editor's save is often several writes
    /// (truncate, write, rename), and one preview of the finished file is what the user wants.
    /// </summary>
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);

    public static async Task<int> RunAsync(FileInfo destinationFile, string inputPath, string? format, Uri? apiBase, long limit, bool asJson, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (inputPath == "-")
        {
            error.WriteLine("kiteflow: --watch reads the input again after every change, which standard input cannot be read twice for; give a file with --input.");
            return ExitCodes.InvalidSettings;
        }

        var input = CommonOptions.InputProblem(inputPath, format);
        if (input is { ExitCode: ExitCodes.InvalidSettings, Message: var usage })
        {
            error.WriteLine($"kiteflow: {usage}");
            return ExitCodes.InvalidSettings;
        }

        var unreadable = new[] { PathChecks.ReadableFile("--destination", destinationFile.FullName, "the destination file (JSON settings)"), input?.Message }.OfType<string>().ToList();
        if (unreadable.Count > 0)
        {
            unreadable.ForEach(p => error.WriteLine($"kiteflow: {p}"));
            return ExitCodes.Error;
        }

        // One pending change is enough: whatever arrives while it waits is the same "the file changed".
        var changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watcher = new FileSystemWatcher(destinationFile.DirectoryName!, destinationFile.Name)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        void Changed(object sender, FileSystemEventArgs e) => changes.Writer.TryWrite(true);
        watcher.Changed += Changed;
        watcher.Created += Changed;
        watcher.Deleted += Changed;
        watcher.Renamed += Changed;  // editors that save by writing a copy and renaming it over the file

        // Events were lost (the watcher's buffer overflowed): showing the preview again cannot be wrong.
        watcher.Error += (_, _) => changes.Writer.TryWrite(true);

        // Watching starts before the first preview, so a change made while it is drawn is not missed.
        watcher.EnableRaisingEvents = true;
        error.WriteLine($"kiteflow: watching {destinationFile.FullName}: the preview is shown again whenever it changes. Ctrl+C stops.");
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        Render(destinationFile, inputPath, format, apiBase, limit, asJson, terminal, again: false, output, error);
        try
        {
            while (true)
            {
                await changes.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                while (!await QuietAsync(changes.Reader, cancellationToken).ConfigureAwait(false))
                {
                }

                Render(destinationFile, inputPath, format, apiBase, limit, asJson, terminal, again: true, output, error);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: the way a watch ends.
        }

        error.WriteLine("kiteflow: stopped watching.");
        return ExitCodes.Success;
    }

    /// <summary>True once no change has come for <see cref="Debounce"/>; false when one came (the wait starts over).</summary>
    private static async Task<bool> QuietAsync(ChannelReader<bool> changes, CancellationToken cancellationToken)
    {
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(Debounce);
        try
        {
            await changes.ReadAsync(quiet.Token).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return true;
        }
    }

    /// <summary>One preview of the files as they are now: the samples, or the settings' problems, or why the input cannot be read.</summary>
    private static void Render(FileInfo destinationFile, string inputPath, string? format, Uri? apiBase, long limit, bool asJson, bool terminal, bool again, TextWriter output, TextWriter error)
    {
        if (terminal && !asJson)
        {
            // Clear the screen and go home: the new preview replaces the old one.
            output.Write("\u001b[2J\u001b[H");
            output.WriteLine($"{destinationFile.Name} · {TimeProvider.System.GetLocalNow():HH:mm:ss} · shown again whenever it changes (Ctrl+C stops)");
            output.WriteLine();
        }
        else if (again && !asJson)
        {
            output.WriteLine();
            output.WriteLine($"--- {destinationFile.Name} changed ({TimeProvider.System.GetLocalNow():HH:mm:ss}) ---");
            output.WriteLine();
        }

        var (settings, readProblems) = DestinationSettingsReader.ReadFile(destinationFile.FullName);
        string runKey;
        try
        {
            runKey = DestinationLoader.RunKey(destinationFile, inputPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone between the read and now (an editor's rename): the next change event shows it again.
            runKey = "preview";
        }

        var (destination, problems) = Destination.Compile(settings, readProblems, new PlannerOptions { ApiBase = apiBase, DeliveryIdPrefix = runKey });
        if (destination is null)
        {
            WriteProblems(settings.Name, destinationFile, problems, asJson, output);
            output.Flush();
            return;
        }

        var reader = CommonOptions.OpenInput(inputPath, format, error);
        if (reader is null)
        {
            return;
        }

        using (var plan = destination.Plan(reader))
        {
            try
            {
                var preview = PreviewDocument.Collect(destination, plan, limit);
                if (asJson)
                {
                    output.WriteLine(Encoding.UTF8.GetString(preview.ToUtf8Json(indented: false)));
                }
                else
                {
                    PreviewCommand.WriteText(preview, output);
                }
            }
            catch (InputException e)
            {
                error.WriteLine($"kiteflow: {e.Message}");
            }
        }

        output.Flush();
    }

    /// <summary>The settings' problems where the samples would be: as text, or as one JSON line <c>{"destination", "problems": [{key, message}]}</c>.</summary>
    private static void WriteProblems(string name, FileInfo destinationFile, IReadOnlyList<SettingsProblem> problems, bool asJson, TextWriter output)
    {
        if (!asJson)
        {
            output.WriteLine($"The destination '{destinationFile.Name}' is not valid ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):");
            foreach (var problem in problems)
            {
                output.WriteLine($"  - {problem.Key}: {problem.Message}");
            }

            output.WriteLine();
            output.WriteLine("Fix the file and save it: the preview is shown again.");
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, MinimalJsonEncoder.CompactWriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("destination", name);
            writer.WriteStartArray("problems");
            foreach (var problem in problems)
            {
                writer.WriteStartObject();
                writer.WriteString("key", problem.Key);
                writer.WriteString("message", problem.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
