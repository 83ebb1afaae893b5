import { type BrokerAddress, formatBrokerAddress } from './broker-address.ts';
import { BrokerConnection, type ConnectionOptions } from './connection.ts';

interface Entry {
  opening: Promise<BrokerConnection>;
  open?: BrokerConnection;
}

/** One connection per broker address, opened on first use and again after it closed. */
export class ConnectionPool {
  private readonly options: ConnectionOptions;
  private readonly entries = new Map<string, Entry>();

  constructor(options: ConnectionOptions) {
    this.options = options;
  }

  async get(address: BrokerAddress): Promise<BrokerConnection> {
    const key = formatBrokerAddress(address);
    const entry = this.entries.get(key);
    if (entry && (!entry.open || entry.open.usable)) return entry.opening;
    entry?.open?.retire();
    return this.open(key, address);
  }

  /** A connection already open, to spare a connect for requests any broker answers. */
  anyOpen(): BrokerConnection | undefined {
    for (const { open } of this.entries.values()) if (open?.usable) return open;
    return undefined;
  }

  closeAll(): void {
    for (const { open } of this.entries.values()) open?.close();
    this.entries.clear();
  }

  private open(key: string, address: BrokerAddress): Promise<BrokerConnection> {
    const entry: Entry = { opening: BrokerConnection.open(address, this.options) };
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    this.entries.set(key, entry);
    entry.opening.then((connection) => {
      entry.open = connection;
      connection.onClosed(forget);
    }, forget);
    return entry.opening;
  }
}
