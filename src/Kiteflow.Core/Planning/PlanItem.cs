namespace Kiteflow.Core.Planning;

/// <summary>One step of a plan: a request to send, or a record that will not be sent.</summary>
public readonly struct PlanItem
{
    private PlanItem(PlannedRequest? request, Rejection? rejection)
    {
        Request = request;
        Rejection = rejection;
    }

    /// <summary>The request, when this item is one.</summary>
    public PlannedRequest? Request { get; }

    /// <summary>The rejected record, when this item is one.</summary>
    public Rejection? Rejection { get; }

    internal static PlanItem Of(PlannedRequest request) => new(request, null);

    internal static PlanItem Of(Rejection rejection) => new(null, rejection);
}
