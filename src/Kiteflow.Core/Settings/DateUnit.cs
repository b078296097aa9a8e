namespace Kiteflow.Core.Settings;

/// <summary>The unit N counts in <c>{now+N}</c> and <c>{now-N}</c>.</summary>
public enum DateUnit
{
    /// <summary>Seconds.</summary>
    Second,

    /// <summary>Minutes.</summary>
    Minute,

    /// <summary>Hours.</summary>
    Hour,

    /// <summary>Days (the default).</summary>
    Day,

    /// <summary>Weeks of seven days.</summary>
    Week,

    /// <summary>Calendar months.</summary>
    Month,

    /// <summary>Calendar years.</summary>
    Year,
}
