using System.Diagnostics;
using System.Globalization;

namespace Kiteflow.Benchmarks;

/// <summary>
/// syslog-ng's http() destination as the peer to measure against: it reads the same JSON Lines file and
/// POSTs the lines, batched into the same {"builds":[…]} wrapper, to the same receiver. It never exits
/// at the end of its input, so the run ends when its "written" counter reaches the record count.
/// flow-control and a large input window keep it from dropping records or shrinking its batches.
/// </summary>
internal static class SyslogNg
{
    public static bool IsInstalled => File.Exists("/usr/sbin/syslog-ng");

    public static ProcessRun Run(string input, Uri receiver, int records, int batchLines, int workers)
    {
        var directory = Directory.CreateTempSubdirectory("kiteflow-syslog-ng-").FullName;
        var config = Path.Combine(directory, "syslog-ng.conf");
        var control = Path.Combine(directory, "ctl");
        var url = new Uri(receiver, "/v2/organizations/acme/pipelines/web/builds");
        File.WriteAllText(config, $$"""
            @version: 3.38
            options { stats-level(1); };
            source s_in { file("{{input}}" flags(no-parse) log-iw-size(20000) log-fetch-limit(1000) follow-freq(1)); };
            destination d_http { http(url("{{url}}") method("POST")
              headers("Content-Type: application/json", "Authorization: Bearer bench")
              body("${MSG}") body-prefix("{\"builds\":[") delimiter(",") body-suffix("]}")
              batch-lines({{batchLines}}) batch-timeout(200) workers({{workers}})); };
            log { source(s_in); destination(d_http); flags(flow-control); };
            """);
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(new ProcessStartInfo("/usr/sbin/syslog-ng", ["-F", "-f", config, "-R", Path.Combine(directory, "persist"), "-c", control, "-p", Path.Combine(directory, "pid"), "--no-caps"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var peak = 0L;
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException("syslog-ng stopped: " + process.StandardError.ReadToEnd());
                }

                peak = Math.Max(peak, BenchSupport.PeakResident(process.Id));
                if (Written(control) >= records)
                {
                    // Read while it still runs: syslog-ng never exits on its own, and once killed its times are gone.
                    return new ProcessRun(stopwatch.Elapsed, peak, BenchSupport.ProcessCpu(process.Id));
                }

                if (stopwatch.Elapsed > TimeSpan.FromMinutes(30))
                {
                    throw new TimeoutException("syslog-ng did not write every record within 30 minutes");
                }

                Thread.Sleep(50);
            }
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static long Written(string control)
    {
        if (!File.Exists(control))
        {
            return 0;
        }

        using var stats = Process.Start(new ProcessStartInfo("/usr/sbin/syslog-ng-ctl", ["stats", "-c", control]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var text = stats.StandardOutput.ReadToEnd();
        stats.WaitForExit();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("dst.http;", StringComparison.Ordinal) && line.EndsWith(";written;" + line.Split(';')[^1], StringComparison.Ordinal) && line.Contains(";written;", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(';')[^1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
