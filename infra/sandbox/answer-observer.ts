import type { Dispatcher } from 'undici';
import { EMULATOR_REQUEST_HEADER } from '../local/oneio-emulator';

type Report = (emulatorRequestId: number) => void;

/**
 * An undici interceptor that reports the ONEiO emulator's number for each request it answers. Composed onto one
 * execution environment's agent, it tells which invocation sent which request: an environment runs one
 * invocation at a time. Nothing about the request or its answer changes.
 */
export function observeEmulatorAnswers(report: Report): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => dispatch(options, observed(handler, report));
}

/**
 * The handler with its response-start callback watched. undici calls either the current `onResponseStart`
 * (parsed headers) or the older `onHeaders` (raw name/value buffers), whichever the handler has.
 */
function observed(handler: Dispatcher.DispatchHandler, report: Report): Dispatcher.DispatchHandler {
  const seen = (value: unknown) => {
    const id = Number(Array.isArray(value) ? value[0] : value);
    if (Number.isInteger(id) && id > 0) report(id);
  };
  return new Proxy(handler, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'onResponseStart') {
        return (...args: [unknown, number, Record<string, unknown>, ...unknown[]]) => {
          seen(args[2]?.[EMULATOR_REQUEST_HEADER]);
          return value.apply(target, args);
        };
      }
      if (property === 'onHeaders') {
        return (...args: [number, Buffer[], ...unknown[]]) => {
          const raw = args[1] ?? [];
          for (let i = 0; i + 1 < raw.length; i += 2) {
            if (raw[i]?.toString('latin1').toLowerCase() === EMULATOR_REQUEST_HEADER)
              seen(raw[i + 1]?.toString('latin1'));
          }
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}
