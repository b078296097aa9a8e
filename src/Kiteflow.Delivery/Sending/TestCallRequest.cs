using System.Text.Json;
using Kiteflow.Core;
using Kiteflow.Core.Planning;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// The one request an endpoint test would send (<see cref="TestCall.Prepare"/>): planned from the input exactly as
/// delivery plans it, with the body the user edited in place of the planned one — or why there is none to send.
/// </summary>
public sealed class TestCallRequest
{
    internal TestCallRequest(Destination destination, PlannedRequest? request, bool bodyEdited, string? recordProblem, string? bodyProblem, Rejection? rejection)
    {
        Destination = destination;
        Request = request;
        BodyEdited = bodyEdited;
        RecordProblem = recordProblem;
        BodyProblem = bodyProblem;
        Rejection = rejection;
    }

    /// <summary>The destination the request was planned through.</summary>
    public Destination Destination { get; }

    /// <summary>The request as it will be sent (the edited body in place), or null when <see cref="RecordProblem"/> says why there is none.</summary>
    public PlannedRequest? Request { get; }

    /// <summary>Whether the body is the user's edit rather than the planned one.</summary>
    public bool BodyEdited { get; }

    /// <summary>Why no request can be sent for the record asked for (or for any record): it is rejected, or not in the input. Null when there is a request.</summary>
    public string? RecordProblem { get; }

    /// <summary>Why the edited body cannot be sent (not JSON where JSON goes, or a request that carries no body); null when it can.</summary>
    public string? BodyProblem { get; }

    /// <summary>The chosen record's rejection, when that is why there is no request.</summary>
    public Rejection? Rejection { get; }

    /// <summary>Whether there is a request to send.</summary>
    public bool IsReady => Request is not null && BodyProblem is null;

    /// <summary>
    /// Writes the request as an object, the preview's request shape (<c>method</c>, <c>url</c>, <c>headers</c> with the
    /// token as <c>Bearer ••••</c>, <c>body</c>, <c>records</c>, <c>deliveryId</c>) plus <c>bodyEdited</c>; null when there is none.
    /// </summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Request is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStartObject();
        PreviewDocument.WriteRequestProperties(writer, Request);
        writer.WriteBoolean("bodyEdited", BodyEdited);
        writer.WriteEndObject();
    }
}
