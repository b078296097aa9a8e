using System.Collections.Concurrent;
using Orleans.Placement;

namespace Kiteflow.Storage.Postgres.Tests.Cluster;

/// <summary>Says where its activation lives: the silo and the activation's own id.</summary>
public interface IWhereGrain : IGrainWithStringKey
{
    Task<string> WhereAreYou();
}

/// <summary>Registers a reminder and reports each tick through <see cref="ReminderProbeGrain.Ticks"/>.</summary>
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Register(TimeSpan dueTime, TimeSpan period);

    Task Unregister();
}

/// <summary>Activated on the silo that first calls it, so a test knows which silo hosts it.</summary>
[PreferLocalPlacement]
public sealed class WhereGrain(ILocalSiloDetails silo) : Grain, IWhereGrain
{
    private readonly Guid _activation = Guid.NewGuid();

    public Task<string> WhereAreYou() => Task.FromResult($"{silo.SiloAddress.ToParsableString()} {_activation}");
}

public sealed class ReminderProbeGrain(ILocalSiloDetails silo) : Grain, IReminderProbeGrain, IRemindable
{
    private const string Name = "probe";

    /// <summary>Per grain key: completed with the silo that received the first tick.</summary>
    public static ConcurrentDictionary<string, TaskCompletionSource<string>> Ticks { get; } = new();

    public async Task Register(TimeSpan dueTime, TimeSpan period) => await this.RegisterOrUpdateReminder(Name, dueTime, period);

    public async Task Unregister()
    {
        var reminder = await this.GetReminder(Name);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.GetOrAdd(this.GetPrimaryKeyString(), _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously))
            .TrySetResult(silo.SiloAddress.ToParsableString());
        return Task.CompletedTask;
    }
}
