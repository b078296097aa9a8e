namespace Kiteflow.Server.Datasets;

/// <summary>One waiting point per dataset: the last count an append reported, and the task of the next append.</summary>
internal sealed class DatasetAppendSignal : IDatasetAppendSignal
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, State> _datasets = [];

    public void Appended(long datasetId, long recordCount)
    {
        TaskCompletionSource<long> next;
        lock (_gate)
        {
            var state = Get(datasetId);
            if (recordCount <= state.Count)
            {
                return;
            }

            state.Count = recordCount;
            next = state.Next;
            state.Next = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        next.TrySetResult(recordCount);
    }

    public Task<long> WaitForMoreThanAsync(long datasetId, long knownCount, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var state = Get(datasetId);
            return state.Count > knownCount ? Task.FromResult(state.Count) : state.Next.Task.WaitAsync(cancellationToken);
        }
    }

    private State Get(long datasetId)
    {
        if (!_datasets.TryGetValue(datasetId, out var state))
        {
            state = new State();
            _datasets[datasetId] = state;
        }

        return state;
    }

    private sealed class State
    {
        public long Count { get; set; } = -1;

        public TaskCompletionSource<long> Next { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
