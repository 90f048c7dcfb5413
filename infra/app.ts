import { App } from 'aws-cdk-lib';
import { addRelayStacks } from './relay-app';

addRelayStacks(new App());
