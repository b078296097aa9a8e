using System.Globalization;

namespace Kiteflow.Testing.Postgres;

/// <summary>Where PostgreSQL's server programs (initdb, pg_ctl) are.</summary>
internal sealed class PostgresBinaries
{
    /// <summary>Overrides the search: a folder holding initdb and pg_ctl.</summary>
    public const string Variable = "KITEFLOW_PG_BIN";

    private PostgresBinaries(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    public string InitDb => Path.Combine(Directory, "initdb");

    public string PgCtl => Path.Combine(Directory, "pg_ctl");

    /// <summary>
    /// $KITEFLOW_PG_BIN, else the newest /usr/lib/postgresql/N/bin (where Debian's packages put them), else
    /// the folder of an initdb on PATH.
    /// </summary>
    public static PostgresBinaries Find()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        const string debian = "/usr/lib/postgresql";
        if (System.IO.Directory.Exists(debian))
        {
            candidates.AddRange(System.IO.Directory.GetDirectories(debian)
                .Select(d => (Path: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Path));
        }

        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(folder);
        }

        foreach (var folder in candidates)
        {
            if (File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")))
            {
                // A symlinked initdb on PATH must be run from its real folder (it finds postgres beside itself).
                var real = new FileInfo(Path.Combine(folder, "initdb")).ResolveLinkTarget(returnFinalTarget: true);
                return new PostgresBinaries(real is null ? folder : Path.GetDirectoryName(real.FullName)!);
            }
        }

        throw new InvalidOperationException(
            $"PostgreSQL's server programs (initdb, pg_ctl) were not found in ${Variable}, /usr/lib/postgresql/*/bin or PATH. " +
            "Run ./scripts/bootstrap.sh (it installs Debian's postgresql package), or set " + Variable + " to the folder that holds them.");
    }
}
