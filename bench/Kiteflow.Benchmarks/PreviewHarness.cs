using System.Diagnostics;

namespace Kiteflow.Benchmarks;

/// <summary>
/// End to end: `kiteflow preview` of the first 5 requests of a 1 GB JSON Lines file, against the same
/// command on a 1,000-record file holding the same first records (the baseline, measured in the same
/// run). A ratio near 1 means the preview reads only what it needs.
/// </summary>
internal static class PreviewHarness
{
    public static int Run(string[] args)
    {
        var root = BenchSupport.Root;
        var cli = BenchSupport.Cli;
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"Build the CLI first: dotnet build -c Release {Path.Combine(root, "src", "Kiteflow.Cli")}");
            return 2;
        }

        var size = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1L << 30;
        var directory = BenchSupport.WorkDirectory;
        var big = Path.Combine(directory, $"builds-{size}.jsonl");
        var small = Path.Combine(directory, "builds-1000.jsonl");
        Generate(big, size);
        Generate(small, RecordGenerator.JsonLines(1000).LongLength);
        var destination = Path.Combine(root, "examples", "trigger-builds", "destination.json");

        // Alternate the two so machine noise falls on both alike.
        var smallTimes = new List<double>();
        var bigTimes = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            smallTimes.Add(Time(cli, destination, small));
            bigTimes.Add(Time(cli, destination, big));
        }

        var smallMedian = Median(smallTimes);
        var bigMedian = Median(bigTimes);
        Console.WriteLine($"input: {new FileInfo(big).Length / (1024.0 * 1024):N0} MiB JSON Lines; 7 runs each, median wall time of the whole process");
        Console.WriteLine($"baseline  preview -n 5, 1,000-record file : {smallMedian:N0} ms");
        Console.WriteLine($"measured  preview -n 5, 1 GB file         : {bigMedian:N0} ms");
        Console.WriteLine($"ratio (1 GB / baseline)                   : {bigMedian / smallMedian:N2}");
        return 0;
    }

    private static double Time(string cli, string destination, string input)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(new ProcessStartInfo("dotnet", [cli, "preview", "-d", destination, "-i", input, "-n", "5", "--json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"preview exited {process.ExitCode}: {process.StandardError.ReadToEnd()}");
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static void Generate(string path, long size)
    {
        if (File.Exists(path) && new FileInfo(path).Length >= size)
        {
            return;
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var block = RecordGenerator.JsonLines(10_000);
        var written = 0L;
        while (written < size)
        {
            var take = (int)Math.Min(block.Length, size - written);
            if (take < block.Length)
            {
                take = Array.LastIndexOf(block, (byte)'\n', take - 1) + 1;
                if (take == 0)
                {
                    break;
                }
            }

            stream.Write(block, 0, take);
            written += take;
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
