namespace Kiteflow.Storage.Postgres.Migrations;

/// <summary>
/// Kiteflow's PostgreSQL schema, step by step. Orleans' ADO.NET providers expect SQL scripts their packages
/// don't ship, so the cluster's membership and reminder tables are Kiteflow's own steps here, read and
/// written by <c>PostgresMembershipTable</c> and <c>PostgresReminderTable</c>. The store's tables (datasets,
/// ledger, runs…) come as the next steps. Never edit a step that has shipped; add one.
/// </summary>
public static class KiteflowPostgresMigrations
{
    /// <summary>
    /// Orleans cluster membership: one version row per cluster (the table version and its etag) and one row
    /// per silo incarnation. Etags come from one sequence, so a value is never handed out twice, even after a
    /// cluster's rows were deleted and created again.
    /// </summary>
    public static readonly PostgresMigration OrleansMembership = new(1, "orleans membership", """
        CREATE SEQUENCE kiteflow_orleans_etag AS bigint;

        CREATE TABLE orleans_membership_version (
            cluster_id text PRIMARY KEY,
            version integer NOT NULL,
            etag bigint NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now()
        );

        -- silo: SiloAddress.ToParsableString() (address:port@generation).
        -- last_activity: the latest of start, I-am-alive and suspicion times; what defunct-silo cleanup compares.
        -- etag changes on UpdateRow only: a heartbeat leaves the etags a silo read still usable.
        CREATE TABLE orleans_membership (
            cluster_id text NOT NULL REFERENCES orleans_membership_version (cluster_id) ON DELETE CASCADE,
            silo text NOT NULL,
            silo_name text,
            host_name text,
            role_name text,
            status integer NOT NULL,
            proxy_port integer NOT NULL,
            update_zone integer NOT NULL,
            fault_zone integer NOT NULL,
            suspecting_silos text[] NOT NULL,
            suspecting_times timestamptz[] NOT NULL,
            start_time timestamptz NOT NULL,
            i_am_alive_time timestamptz NOT NULL,
            last_activity timestamptz NOT NULL,
            etag bigint NOT NULL,
            PRIMARY KEY (cluster_id, silo)
        );
        """);

    /// <summary>
    /// Orleans reminders, per service: the grain's uniform hash (an unsigned 32-bit value, kept in a bigint
    /// so ranges compare as numbers) is indexed for the ring-range reads each silo makes.
    /// </summary>
    public static readonly PostgresMigration OrleansReminders = new(2, "orleans reminders", """
        CREATE TABLE orleans_reminders (
            service_id text NOT NULL,
            grain_id text NOT NULL,
            reminder_name text NOT NULL,
            grain_hash bigint NOT NULL CHECK (grain_hash BETWEEN 0 AND 4294967295),
            start_at timestamptz NOT NULL,
            period interval NOT NULL,
            etag bigint NOT NULL,
            PRIMARY KEY (service_id, grain_id, reminder_name)
        );

        CREATE INDEX orleans_reminders_by_hash ON orleans_reminders (service_id, grain_hash);
        """);

    /// <summary>Every step, in order: what a Kiteflow process applies at start.</summary>
    public static IReadOnlyList<PostgresMigration> All { get; } = [OrleansMembership, OrleansReminders];
}
