namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// A span as an OTLP trace export carries it, read from the protobuf body of <c>ExportTraceServiceRequest</c> with a
/// minimal wire-format reader (only the fields the tests look at: ids, name, string attributes, and the resource's
/// string attributes such as <c>service.instance.id</c>, and the span's start and end in Unix nanoseconds).
/// </summary>
public sealed record OtlpSpan(
    string TraceId, string SpanId, string ParentSpanId, string Name,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyDictionary<string, string> Resource,
    ulong StartUnixNano = 0, ulong EndUnixNano = 0)
{
    public static IEnumerable<OtlpSpan> ParseExport(byte[] body)
    {
        foreach (var (field, resourceSpans) in Fields(body))
        {
            if (field != 1)
            {
                continue; // ExportTraceServiceRequest.resource_spans = 1
            }
            var resource = new Dictionary<string, string>(StringComparer.Ordinal);
            var scopes = new List<byte[]>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1)
                {
                    foreach (var (rf, attribute) in Fields(value))
                    {
                        if (rf == 1 && KeyValue(attribute) is { } kv)
                        {
                            resource[kv.Key] = kv.Value; // Resource.attributes = 1
                        }
                    }
                }
                else if (f == 2)
                {
                    scopes.Add(value); // ResourceSpans.scope_spans = 2
                }
            }
            foreach (var scope in scopes)
            {
                foreach (var (f, span) in Fields(scope))
                {
                    if (f == 2)
                    {
                        yield return Span(span, resource); // ScopeSpans.spans = 2
                    }
                }
            }
        }
    }

    private static OtlpSpan Span(byte[] span, IReadOnlyDictionary<string, string> resource)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (f, value) in Fields(span))
        {
            switch (f)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = System.Text.Encoding.UTF8.GetString(value); break;
                case 7: start = BitConverter.ToUInt64(value); break; // start_time_unix_nano, fixed64
                case 8: end = BitConverter.ToUInt64(value); break; // end_time_unix_nano, fixed64
                case 9:
                    if (KeyValue(value) is { } kv)
                    {
                        attributes[kv.Key] = kv.Value;
                    }
                    break;
            }
        }
        return new OtlpSpan(traceId, spanId, parent, name, attributes, resource, start, end);
    }

    /// <summary>A <c>KeyValue</c> whose <c>AnyValue</c> is a string (<c>string_value = 1</c>) or an integer (<c>int_value = 3</c>, in decimal), or null.</summary>
    private static (string Key, string Value)? KeyValue(byte[] keyValue)
    {
        string? key = null, value = null;
        foreach (var (f, bytes) in Fields(keyValue))
        {
            if (f == 1)
            {
                key = System.Text.Encoding.UTF8.GetString(bytes);
            }
            else if (f == 2)
            {
                foreach (var (af, any) in Fields(bytes))
                {
                    if (af == 1)
                    {
                        value = System.Text.Encoding.UTF8.GetString(any);
                    }
                }
                value ??= IntValue(bytes);
            }
        }
        return key is null || value is null ? null : (key, value);
    }

    /// <summary>The length-delimited and fixed64 fields of a message (field number, bytes; 8 little-endian bytes for a fixed64); varint and fixed32 fields are skipped.</summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var i = 0;
        while (i < message.Length)
        {
            var tag = Varint(message, ref i);
            var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wire)
            {
                case 0: Varint(message, ref i); break;
                case 1:
                    fields.Add((field, message[i..(i + 8)]));
                    i += 8;
                    break;
                case 5: i += 4; break;
                case 2:
                    var length = (int)Varint(message, ref i);
                    fields.Add((field, message[i..(i + length)]));
                    i += length;
                    break;
                default: throw new FormatException($"wire type {wire} at byte {i}");
            }
        }
        return fields;
    }

    /// <summary>The <c>int_value</c> (field 3, a varint) of an <c>AnyValue</c>, in decimal, or null.</summary>
    private static string? IntValue(byte[] any)
    {
        var i = 0;
        while (i < any.Length)
        {
            var tag = Varint(any, ref i);
            if (tag == (3 << 3))
            {
                return ((long)Varint(any, ref i)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return null; // an AnyValue holds one value
        }
        return null;
    }

    private static ulong Varint(byte[] bytes, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
