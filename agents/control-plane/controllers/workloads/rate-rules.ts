// The pace of pod creations and deletions. Upstream's controllers each talk to the API server
// through a client limited to --kube-api-qps 20 with bursts of --kube-api-burst 30. Here the whole
// controller set shares one such pace (controller-set.ts), since it shares the API server's event
// loop too: an owner asking for 2147483647 pods grows by at most 20 a second after the first 30,
// however fast its passes come.
import { TokenBucket } from '../../../api/token-bucket.ts';

export const POD_QPS = 20;
export const POD_BURST = 30;

export const podPace = (now?: () => number): TokenBucket => new TokenBucket(POD_QPS, POD_BURST, now);
