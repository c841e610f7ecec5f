using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace EventSourcedChat.Gateway.Realtime;

/// <summary>
/// SignalR's JSON protocol, except that a complete record of an unknown message type ends the connection with an error.
/// The stock protocol answers "no message" for it without consuming it, so the hub connection reads the same record
/// again on every later frame and never serves the client again (a wedged socket that neither answers nor closes).
/// Registered after <c>AddSignalR</c>, it replaces the stock "json" protocol; everything else is delegated.
/// </summary>
public sealed class StrictJsonHubProtocol(IOptions<JsonHubProtocolOptions> options) : IHubProtocol
{
    private readonly JsonHubProtocol _inner = new(options);

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubMessage? message)
    {
        var before = input.Length;
        if (_inner.TryParseMessage(ref input, binder, out message))
        {
            return true;
        }
        // The inner protocol moved past a whole record yet produced nothing: a message type it does not know.
        return input.Length < before
            ? throw new InvalidDataException("Unsupported hub message type.")
            : false;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);
}
