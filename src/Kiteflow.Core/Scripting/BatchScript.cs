using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Runtime;
using Jint.Runtime.Interop;
using Kiteflow.Core.Records;
using Kiteflow.Core.Settings;

namespace Kiteflow.Core.Scripting;

/// <summary>
/// The <c>code</c> batching algorithm: a user's JavaScript <c>batch(records, context)</c> run in Jint
/// with no .NET access and limits on time (regular expressions included), memory, statements, recursion
/// and array size for every call. What it returns becomes the body only within limits of its own: nested
/// at most <see cref="ScriptLimits.MaxResultDepth"/> levels and no larger than the batch byte ceiling. A
/// failure is a value (<see cref="ScriptResult.Error"/>) that rejects the batch, never an exception.
/// </summary>
internal sealed class BatchScript
{
    // batch's value goes straight to emit, inside the same call, so getters and toJSON that run while
    // it is written count against the call's limits like the rest of the script.
    private const string CallWrapper = "(function (batch, emit) { 'use strict'; return function (records, context) { emit(batch(records, context)); }; })";

    private readonly Engine _engine;
    private readonly ScriptLimits _limits;
    private readonly JsValue _call;
    private readonly JsonParser _parser;
    private readonly ScriptValueWriter _writer;
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private long _maxBytes;
    private ScriptResult _result;

    private BatchScript(Engine engine, JsValue batch, ScriptLimits limits)
    {
        _engine = engine;
        _limits = limits;
        _parser = new JsonParser(engine);
        _writer = new ScriptValueWriter(engine, limits.MaxResultDepth);
        var emit = new ClrFunction(engine, "emit", (_, args) =>
        {
            _result = Emit(args.Length > 0 ? args[0] : JsValue.Undefined);
            return JsValue.Undefined;
        });
        _call = engine.Invoke(engine.Evaluate(CallWrapper), batch, emit);
    }

    /// <summary>Compiles <paramref name="code"/> and finds <c>batch</c>; reports a problem under <c>batching.code</c> otherwise.</summary>
    public static BatchScript? Compile(string code, ScriptLimits limits, List<SettingsProblem> problems)
    {
        var engine = new Engine(options =>
        {
            options
                .Strict()
                .TimeoutInterval(limits.Timeout)
                .LimitMemory(limits.MemoryBytes)
                .MaxStatements(limits.MaxStatements)
                .LimitRecursion(limits.MaxRecursion);

            // A regular expression is one step to Jint's clock: without its own timeout a pattern that
            // backtracks, such as /^(a+)+$/, runs for Jint's default 10 s whatever the script's limit.
            options.Constraints.RegexTimeout = limits.Timeout;
            options.Constraints.MaxArraySize = limits.MaxArraySize;

            // Recursion that does not go through a call expression (JSON.stringify of a deep value, a
            // getter, toString) would otherwise end the process with a native stack overflow.
            options.Constraints.StackOverflowGuard = true;

            // The records arrive as one array of records, each nested up to the reader's limit.
            options.Json.MaxParseDepth = ReaderLimits.Default.MaxDepth + 1;
        });
        try
        {
            StringSizeGuards.Install(engine, limits.MemoryBytes / sizeof(char));
            engine.Execute(code);
        }
        catch (Exception e) when (Describe(e, limits) is { } message)
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

        // An async function or a generator returns a promise or an iterator, which would be written as {}: batch is
        // called synchronously, and its body must be what it returns.
        if (!engine.Evaluate("Object.getPrototypeOf(batch) === Function.prototype").AsBoolean())
        {
            problems.Add(new SettingsProblem("batching.code", "batch must be a plain function that returns the body: an async function or a generator (function*) returns a promise or an iterator, not the body. Remove async (or *); Kiteflow calls batch once per batch and waits for nothing."));
            return null;
        }

        return new BatchScript(engine, batch, limits);
    }

    /// <summary>Runs <c>batch</c> on the records (a JSON array as UTF-8); the body it returns may be at most <paramref name="maxBytes"/>.</summary>
    public ScriptResult Run(ReadOnlySpan<byte> recordsJson, string destination, string url, long batchIndex, long maxBytes)
    {
        _maxBytes = maxBytes;
        _result = new ScriptResult(null, false, "batch() did not return.");
        try
        {
            var records = _parser.Parse(Encoding.UTF8.GetString(recordsJson));
            var context = new JsObject(_engine);
            context.Set("destination", destination);
            context.Set("url", url);
            context.Set("batchIndex", batchIndex);
            _engine.Invoke(_call, records, context);
            return _result;
        }
        catch (Exception e) when (Describe(e, _limits) is { } message)
        {
            return new ScriptResult(null, false, message);
        }
    }

    /// <summary>Turns what <c>batch</c> returned into the body, within the result's limits.</summary>
    private ScriptResult Emit(JsValue result)
    {
        if (result is JsString text)
        {
            var body = text.ToString();
            if (body.Length > _maxBytes || Encoding.UTF8.GetByteCount(body) > _maxBytes)
            {
                throw new ScriptOutputException(string.Create(CultureInfo.InvariantCulture, $"batch() returned a body larger than batching.maxBatchBytes ({_maxBytes:N0} bytes); return less per batch, use a smaller batchSize, or raise the limit."));
            }

            return new ScriptResult(Encoding.UTF8.GetBytes(body), IsJson: false, null);
        }

        if (result.IsPromise())
        {
            return new ScriptResult(null, false, "batch() returned a promise; return the body itself (Kiteflow waits for nothing a script starts).");
        }

        if (result is Jint.Native.Function.Function)
        {
            return new ScriptResult(null, false, "batch() returned a function; return an object, an array or a string.");
        }

        if (!result.IsObject())
        {
            return new ScriptResult(null, false, $"batch() returned {(result.IsUndefined() ? "undefined" : result.Type.ToString().ToLowerInvariant())}; return an object, an array or a string.");
        }

        _output.ResetWrittenCount();
        _writer.Write(result, _output, _maxBytes);
        return new ScriptResult(_output.WrittenSpan.ToArray(), IsJson: true, null);
    }

    /// <summary>A user-facing description of a script failure, naming the limit it passed and its line where Jint gives one.</summary>
    private static string? Describe(Exception e, ScriptLimits limits)
    {
        var line = JintException.TryGetJavaScriptLocation(e, out var location) && location.Start.Line > 0 ? $" (line {location.Start.Line})" : string.Empty;
        var time = string.Create(CultureInfo.InvariantCulture, $"{limits.Timeout.TotalSeconds:0.###} s");
        var memory = string.Create(CultureInfo.InvariantCulture, $"{limits.MemoryBytes / (1024.0 * 1024):0.#} MiB");
        return e switch
        {
            JavaScriptException js => $"{js.Message}{(js.Location.Start.Line > 0 ? $" (line {js.Location.Start.Line})" : line)}",
            Acornima.ParseErrorException parse => $"syntax error: {parse.Description} (line {parse.LineNumber})",
            ScriptOutputException output => output.Message,
            RegexMatchTimeoutException => $"a regular expression ran longer than the script's time limit of {time}{line}; nested repetition such as (a+)+ can backtrack without end, so simplify the pattern.",
            TimeoutException => $"the script ran longer than its time limit of {time}{line}; look for an endless loop.",
            // Kiteflow's own guards say which built-in would have made the string; Jint's message only counts the
            // bytes, which differ from batch to batch and would keep one problem from being listed as one.
            MemoryLimitExceededException when e.Message.StartsWith("Script has allocated", StringComparison.Ordinal) => $"the script used more memory than its limit of {memory}{line}.",
            MemoryLimitExceededException => $"the script used more memory than its limit of {memory} ({e.Message.TrimEnd('.')}){line}.",
            StatementsCountOverflowException => string.Create(CultureInfo.InvariantCulture, $"the script ran more statements than its limit of {limits.MaxStatements:N0}{line}; look for an endless loop."),
            RecursionDepthOverflowException => $"the script recursed deeper than its limit of {limits.MaxRecursion}{line}.",
            JintException => $"{e.Message}{line}",

            // An allocation larger than .NET allows, or a stack nearly gone: that batch's problem, not a
            // reason to stop every other batch.
            OutOfMemoryException => $"the script used more memory than its limit of {memory}{line}.",
            InsufficientExecutionStackException => $"the script nested calls too deeply{line}.",
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

    /// <summary>The most items an array may hold: a bigger one is refused when it is made, before its memory is taken.</summary>
    public uint MaxArraySize { get; init; } = 1_048_576;

    /// <summary>How deep what <c>batch</c> returns may nest: the depth every reader of the body accepts.</summary>
    public int MaxResultDepth { get; init; } = 64;
}
