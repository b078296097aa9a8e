using System.Globalization;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Kiteflow.Core.Scripting;

/// <summary>
/// Jint checks a script's memory between statements, so a built-in that makes one huge string in a
/// single step (<c>'x'.repeat(300 * 1024 * 1024)</c> allocates 600 MB before the next check) passes
/// the limit many times over first. These wrappers work out the length of the string first and refuse
/// one larger than the memory limit allows, before anything is allocated. Jint has no setting for
/// this: its string length limit is a fixed constant (V8's, about 512 M characters).
/// </summary>
internal static class StringSizeGuards
{
    /// <summary>Wraps <c>repeat</c>, <c>padStart</c>, <c>padEnd</c> and <c>Array.prototype.join</c>.</summary>
    public static void Install(Engine engine, long maxChars)
    {
        var strings = engine.Evaluate("String.prototype").AsObject();
        var arrays = engine.Evaluate("Array.prototype").AsObject();

        Wrap(engine, strings, "repeat", 1, (thisObj, args, call) =>
        {
            if (thisObj.IsNull() || thisObj.IsUndefined())
            {
                return call(thisObj, args);  // the built-in's own TypeError
            }

            var text = TypeConverter.ToString(thisObj);
            var count = TypeConverter.ToNumber(args.Length > 0 ? args[0] : JsValue.Undefined);
            Check("repeat", text.Length * (double.IsNaN(count) ? 0 : count), maxChars);
            return call(text, [count]);
        });

        foreach (var name in new[] { "padStart", "padEnd" })
        {
            Wrap(engine, strings, name, 2, (thisObj, args, call) =>
            {
                if (thisObj.IsNull() || thisObj.IsUndefined())
                {
                    return call(thisObj, args);
                }

                var text = TypeConverter.ToString(thisObj);
                var length = (double)TypeConverter.ToLength(args.Length > 0 ? args[0] : JsValue.Undefined);
                Check(name, length, maxChars);
                return call(text, [length, args.Length > 1 ? args[1] : JsValue.Undefined]);
            });
        }

        Wrap(engine, arrays, "join", 1, (thisObj, args, call) =>
        {
            if (thisObj is not ObjectInstance array)
            {
                return call(thisObj, args);
            }

            var separator = args.Length > 0 && !args[0].IsUndefined() ? TypeConverter.ToString(args[0]) : ",";
            var length = TypeConverter.ToLength(array.Get("length"));
            var total = separator.Length * (double)Math.Max(0, (long)Math.Min(length, long.MaxValue) - 1);
            Check("join", total, maxChars);

            // The items' own text counts too: an array of one long string repeated a million times
            // joins into far more than any item. Only strings are counted; numbers and the like are short.
            for (ulong i = 0; i < length && total <= maxChars; i++)
            {
                if (array.Get(JsNumber.Create((double)i)) is JsString item)
                {
                    total += item.Length;
                }
            }

            Check("join", total, maxChars);
            return call(array, [separator]);
        });
    }

    private static void Check(string name, double length, long maxChars)
    {
        if (length > maxChars)
        {
            throw new MemoryLimitExceededException(string.Create(CultureInfo.InvariantCulture, $"{name}() would make a string of {length:N0} characters"));
        }
    }

    private delegate JsValue Guarded(JsValue thisObj, JsValue[] args, Func<JsValue, JsValue[], JsValue> call);

    private static void Wrap(Engine engine, ObjectInstance prototype, string name, int length, Guarded guarded)
    {
        var original = prototype.Get(name);
        JsValue Call(JsValue thisObj, JsValue[] args) => engine.Call(original, thisObj, args);
        var wrapper = new ClrFunction(engine, name, (thisObj, args) => guarded(thisObj, args, Call), length, PropertyFlag.Configurable);
        prototype.FastSetProperty(name, new PropertyDescriptor(wrapper, writable: true, enumerable: false, configurable: true));
    }
}
