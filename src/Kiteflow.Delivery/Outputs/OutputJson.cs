using System.Text;
using System.Text.Json;

namespace Kiteflow.Delivery.Outputs;

/// <summary>Writing request and response bodies into output records: JSON as JSON, anything else as text.</summary>
internal static class OutputJson
{
    /// <summary>Writes <paramref name="text"/> as a JSON value when <paramref name="isJson"/>, else as a string (null when absent).</summary>
    public static void WriteBody(Utf8JsonWriter writer, string name, string? text, bool isJson)
    {
        writer.WritePropertyName(name);
        if (text is null)
        {
            writer.WriteNullValue();
        }
        else if (isJson)
        {
            writer.WriteRawValue(text, skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }

    /// <summary>Writes UTF-8 <paramref name="body"/> as a JSON value when <paramref name="isJson"/>, else as a string.</summary>
    public static void WriteBody(Utf8JsonWriter writer, string name, byte[]? body, bool isJson)
    {
        writer.WritePropertyName(name);
        if (body is null)
        {
            writer.WriteNullValue();
        }
        else if (isJson)
        {
            writer.WriteRawValue(body, skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(Encoding.UTF8.GetString(body));
        }
    }
}
