using Kiteflow.Core.Records;

namespace Kiteflow.Core.Planning;

/// <summary>What planning needs besides the destination's settings.</summary>
public sealed class PlannerOptions
{
    /// <summary>
    /// The credential's API base (null: <c>https://api.buildkite.com</c>). URLs written for
    /// api.buildkite.com are sent here instead, e.g. <c>http://127.0.0.1:43121</c> for the sandbox.
    /// </summary>
    public Uri? ApiBase { get; init; }

    /// <summary>The clock <c>{now}</c> macros read. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// The stable prefix of create-build delivery ids (<c>meta_data.kiteflow_delivery_id</c> is
    /// <c>{prefix}-{first record position}</c>). Use <see cref="DeliveryIds.RunKey"/> so a rerun
    /// of the same command gets the same ids. Default <c>preview</c>.
    /// </summary>
    public string DeliveryIdPrefix { get; init; } = "preview";

    /// <summary>Limits on input records.</summary>
    public ReaderLimits ReaderLimits { get; init; } = ReaderLimits.Default;

    /// <summary>Whether each planned request carries the original text of its records (for rejected-record output). Default false.</summary>
    public bool KeepRecordText { get; init; }

    /// <summary>
    /// How many batches may be open at once (distinct URL and header groups still filling). When
    /// exceeded, the group waiting longest is sent as it is, so memory stays bounded. Default 10,000.
    /// </summary>
    public int MaxOpenGroups { get; init; } = 10_000;

    /// <summary>
    /// How many threads parse, template, check and shape records ahead of batching, which stays in
    /// dataset order on the enumerating thread. 1 does it all on that thread. Null (the default): the
    /// destination's <c>delivery.planningThreads</c>, or else the number of processors.
    /// </summary>
    public int? Parallelism { get; init; }
}
