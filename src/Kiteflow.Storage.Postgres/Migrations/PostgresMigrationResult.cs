namespace Kiteflow.Storage.Postgres.Migrations;

/// <summary>What one <see cref="PostgresMigrator.MigrateAsync"/> call did.</summary>
/// <param name="VersionBefore">The schema version found (0 for an empty database).</param>
/// <param name="VersionAfter">The schema version left.</param>
/// <param name="Applied">The versions this call applied, in order (empty when another process had done it).</param>
public sealed record PostgresMigrationResult(int VersionBefore, int VersionAfter, IReadOnlyList<int> Applied);
