using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace EventSourcedChat.Tests.Infrastructure;

/// <summary>
/// The JSON hub protocol for the tests' <c>HubConnection</c>s, recording every <c>Event</c> envelope as it is parsed.
/// </summary>
/// <remarks>
/// HubConnection completes an invocation on its receive loop but runs the handlers of server invocations on a loop of
/// their own, so a test that awaited <c>InvokeAsync</c> could look at its events before the handler of an envelope the
/// server sent ahead of the completion had run (a presence snapshot, a resumed replay). The protocol parses messages in
/// the order they arrived, on the receive loop, so recording here keeps the server's order between envelopes and
/// completions, as the tests expect. Arguments are (de)serialized with System.Text.Json's defaults.
/// </remarks>
internal sealed class RecordingHubProtocol(Action<JsonElement> record) : IHubProtocol
{
    private readonly JsonHubProtocol _inner = new(Options.Create(new JsonHubProtocolOptions { PayloadSerializerOptions = new JsonSerializerOptions() }));

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        if (!_inner.TryParseMessage(ref input, binder, out message))
        {
            return false;
        }
        // The typed hub sends "Event" with one argument; SignalR clients match method names case-insensitively.
        if (message is InvocationMessage { Arguments: [JsonElement envelope] } invocation
            && string.Equals(invocation.Target, HubClient.EventTarget, StringComparison.OrdinalIgnoreCase))
        {
            record(envelope);
        }
        return true;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);
}
