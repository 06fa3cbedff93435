/**
 * An independent AMQP client for the RabbitMQ end-to-end tests, run as a separate process
 * (`node bin/run-ts.js test/brokers-e2e/amqp-cli.ts ...`) with amqplib, never the gateway's code:
 *
 *   publish URL EXCHANGE ROUTING_KEY TEXT [NAME=VALUE ...]   persistent, waits for the confirm
 *   consume URL QUEUE COUNT                                   prints READY, then one JSON line per
 *                                                             message {content, routingKey, headers}, acks, exits
 */
import amqp from 'amqplib';

const [command, url, ...rest] = process.argv.slice(2);
const connection = await amqp.connect(url!);
try {
  if (command === 'publish') {
    const [exchange, routingKey, text, ...pairs] = rest;
    const headers = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const channel = await connection.createConfirmChannel();
    channel.publish(exchange!, routingKey!, Buffer.from(text!), { persistent: true, headers });
    await channel.waitForConfirms();
  } else if (command === 'consume') {
    const [queue, count] = rest;
    const channel = await connection.createChannel();
    await channel.prefetch(Number(count));
    let left = Number(count);
    await new Promise<void>((resolve) => {
      void channel.consume(queue!, (msg) => {
        if (!msg) return;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(msg.properties.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        process.stdout.write(`${JSON.stringify({ content: msg.content.toString('utf8'), routingKey: msg.fields.routingKey, headers })}\n`);
        channel.ack(msg);
        if (--left === 0) resolve();
      }).then(() => process.stdout.write('READY\n'));
    });
    // Closing the channel waits for the broker's close-ok: the acks before it have arrived.
    await channel.close();
  } else {
    throw new Error(`unknown command ${command}: publish | consume`);
  }
} finally {
  await connection.close();
}
