namespace Kiteflow.Core.Catalog;

/// <summary>
/// At least one of several fields must be present (create pipeline: <c>configuration</c>, <c>steps</c> or
/// <c>pipeline_template_uuid</c>). A missing group is reported under <see cref="ReportedField"/>, the field
/// Buildkite itself names in its 422.
/// </summary>
internal sealed class RequiredGroup(string reportedField, IReadOnlyList<string> members, string whatToDo)
{
    public string ReportedField { get; } = reportedField;

    public IReadOnlyList<string> Members { get; } = members;

    /// <summary>The end of the error sentence: what to add, phrased to follow "add ...".</summary>
    public string WhatToDo { get; } = whatToDo;
}
