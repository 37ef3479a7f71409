export * from './asff';
export * from './config-evaluations';
export * from './ec2-arns';
export * from './finding-change';
export * from './fix-status';
export * from './record-events';
export * from './slack';
export * from './sns';
