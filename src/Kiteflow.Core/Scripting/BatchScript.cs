using System.Buffers;
using System.Text;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Runtime;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Scripting;

/// <summary>
/// The <c>code</c> batching algorithm: a user's JavaScript <c>batch(records, context)</c> run in Jint
/// with no .NET access and limits on time, memory, statements and recursion for every call. A failure
/// is a value (<see cref="ScriptResult.Error"/>) that rejects the batch, never an exception.
/// </summary>
internal sealed class BatchScript
{
    private readonly Engine _engine;
    private readonly JsValue _batch;
    private readonly JsonParser _parser;
    private readonly JsonSerializer _serializer;

    private BatchScript(Engine engine, JsValue batch)
    {
        _engine = engine;
        _batch = batch;
        _parser = new JsonParser(engine);
        _serializer = new JsonSerializer(engine);
    }

    /// <summary>Compiles <paramref name="code"/> and finds <c>batch</c>; reports a problem under <c>batching.code</c> otherwise.</summary>
    public static BatchScript? Compile(string code, ScriptLimits limits, List<SettingsProblem> problems)
    {
        var engine = new Engine(options => options
            .Strict()
            .TimeoutInterval(limits.Timeout)
            .LimitMemory(limits.MemoryBytes)
            .MaxStatements(limits.MaxStatements)
            .LimitRecursion(limits.MaxRecursion));
        try
        {
            engine.Execute(code);
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            problems.Add(new SettingsProblem("batching.code", $"The script cannot run: {message}"));
            return null;
        }

        var batch = engine.GetValue("batch");
        if (batch is not Jint.Native.Function.Function)
        {
            problems.Add(new SettingsProblem("batching.code", "The script must define function batch(records, context) that returns the body."));
            return null;
        }

        return new BatchScript(engine, batch);
    }

    /// <summary>Runs <c>batch</c> on the records (a JSON array as UTF-8).</summary>
    public ScriptResult Run(ReadOnlySpan<byte> recordsJson, string destination, string url, long batchIndex)
    {
        try
        {
            var records = _parser.Parse(Encoding.UTF8.GetString(recordsJson));
            var context = new JsObject(_engine);
            context.Set("destination", destination);
            context.Set("url", url);
            context.Set("batchIndex", batchIndex);
            var result = _engine.Invoke(_batch, records, context);
            if (result.IsString())
            {
                return new ScriptResult(Encoding.UTF8.GetBytes(result.AsString()), IsJson: false, null);
            }

            if (!result.IsObject())
            {
                return new ScriptResult(null, false, $"batch() returned {(result.IsUndefined() ? "undefined" : result.Type.ToString().ToLowerInvariant())}; return an object, an array or a string.");
            }

            var buffer = new ArrayBufferWriter<byte>();
            _serializer.Serialize(result, JsValue.Undefined, JsValue.Undefined, buffer);
            return new ScriptResult(buffer.WrittenSpan.ToArray(), IsJson: true, null);
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            return new ScriptResult(null, false, message);
        }
    }

    /// <summary>A user-facing description of a script failure, with its line where Jint gives one; null for exceptions that are not the script's.</summary>
    private static string? Describe(Exception e)
    {
        var line = JintException.TryGetJavaScriptLocation(e, out var location) && location.Start.Line > 0 ? $" (line {location.Start.Line})" : string.Empty;
        return e switch
        {
            JavaScriptException js => $"{js.Message}{(js.Location.Start.Line > 0 ? $" (line {js.Location.Start.Line})" : line)}",
            Acornima.ParseErrorException parse => $"syntax error: {parse.Description} (line {parse.LineNumber})",
            TimeoutException => $"the script ran longer than its time limit{line}; look for an endless loop.",
            MemoryLimitExceededException => $"the script used more memory than its limit{line}.",
            StatementsCountOverflowException => $"the script ran more statements than its limit{line}; look for an endless loop.",
            RecursionDepthOverflowException => $"the script recursed deeper than its limit{line}.",
            JintException => $"{e.Message}{line}",
            _ => null,
        };
    }
}

/// <summary>What one run of the batching script produced: a body, or an error message.</summary>
internal readonly record struct ScriptResult(byte[]? Body, bool IsJson, string? Error);

/// <summary>Per-call limits for batching scripts.</summary>
internal sealed class ScriptLimits
{
    public static ScriptLimits Default { get; } = new();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    public long MemoryBytes { get; init; } = 64L * 1024 * 1024;

    public int MaxStatements { get; init; } = 5_000_000;

    public int MaxRecursion { get; init; } = 256;
}
