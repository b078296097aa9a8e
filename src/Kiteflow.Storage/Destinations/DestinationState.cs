namespace Kiteflow.Storage;

/// <summary>Where a destination is in its life: draft → active ⇄ paused, or deleted.</summary>
public enum DestinationState
{
    /// <summary>Saved, never activated: nothing is sent.</summary>
    Draft,

    /// <summary>Delivering every record of its dataset, and those appended later.</summary>
    Active,

    /// <summary>Stopped after its in-flight calls; activating again resumes.</summary>
    Paused,

    /// <summary>Gone from lists; its name is free again.</summary>
    Deleted,
}
